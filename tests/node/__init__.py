"""Tests of the local node (kernel, runners, install, multi-node)."""
