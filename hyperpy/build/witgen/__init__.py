"""WIT for hyperpy packages: read any package's kit-style API, generate typed stubs and clients.

`reader` parses `api/*.wit` (or `api.zip`) into `model`; `stubs_python` and `stubs_ts` turn that
model into a typed Python caller module and a TypeScript HTTP client; `validate` checks WIT with
wasm-tools and componentize-py.
"""
