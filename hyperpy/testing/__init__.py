"""pytest plugin and fixtures for testing packages on the local node."""
