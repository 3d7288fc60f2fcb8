"""Imports a native extension module, which no component can (kiwisolver: small and unused else)."""

from __future__ import annotations

import kiwisolver  # noqa: F401

from hyperpy import app, local


@app(name="nativeext")
class NativeExt:
    @local
    def ping(self) -> str:
        return "pong"
