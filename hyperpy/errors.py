"""hyperpy.errors: every exception hyperpy raises, in one namespace.

The ones an app catches or raises every day are also at the top level (`CallError`, `CallTimeout`,
`CallOffline`, `RemoteError`, `HTTPError`, `ModuleError`); the rest describe mistakes hyperpy reports
(`DeclarationError` for a wrong `@app`, `CodecError` for a value that does not match its type hint,
`BadResponse` for an answer that does not decode). Part of the guest runtime.
"""

from __future__ import annotations

from hyperpy.runtime.errors import (
    BadResponse,
    CallError,
    CallOffline,
    CallTimeout,
    CodecError,
    DeclarationError,
    HTTPError,
    RemoteError,
)
from hyperpy.runtime.system import ModuleError

__all__ = [
    "BadResponse",
    "CallError",
    "CallOffline",
    "CallTimeout",
    "CodecError",
    "DeclarationError",
    "HTTPError",
    "ModuleError",
    "RemoteError",
]
