"""Does, on request, what works in host CPython but not inside a component."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import threading

from hyperpy import app, local


@app(name="nativeguard")
class NativeGuard:
    @local
    def attempt(self, what: str) -> str:
        if what == "socket":
            socket.socket().close()
        elif what == "thread":
            threading.Thread(target=print).start()
        elif what == "subprocess":
            subprocess.run(["true"], check=False)
        elif what == "sqlite-file":
            sqlite3.connect("todo.db").close()
        elif what == "sqlite-memory":
            sqlite3.connect(":memory:").close()
        elif what == "open":
            with open("notes.txt", "w") as notes:
                notes.write("x")
        return "worked"
