"""A process module that fails while being imported (native mode: the process is left a zombie)."""

raise ImportError("broken_import: this module cannot be imported on purpose")
