"""Commands that drive both the build and the node (`hyperpy run`, `inject`, `start-package`, `dev`).

Why a layer of their own: the node must never import the build (a node runs packages it did not
build) and the build must never import the node, yet `hyperpy run` builds a project and boots a node
with it. Dependencies flow runtime <- package <- {build, node} <- commands (docs/architecture.md);
tests/test_layering.py enforces it. Commands that need only one side stay beside it
(`hyperpy.build.cli`, `hyperpy.build.check`).
"""
