"""Process runners: component (wasmtime-py) and native (host CPython)."""
