"""Build errors for users, and the translation of componentize-py failures into them.

componentize-py runs the process module's top level inside the wasm CPython during pre-init; when
that fails it reports the guest's stderr with paths as the guest saw them (`/0/app.py`), followed by
an anyhow "Caused by:" chain and, with RUST_BACKTRACE set, a Rust stack trace. Users need none of
that noise: they need the file and line in *their* project, the exception, and what to do. This
module maps guest paths back to host paths and classifies the failure:

- syntax errors: the file, line and caret, as Python prints them;
- exceptions at import: the user's traceback (frames of the interpreter's own modules dropped);
- imports of native extension modules (numpy, pydantic_core, ...): which module, and that no
  wasm32-wasi build exists, so it cannot run inside a component;
- anything else from componentize-py (WIT problems): its first lines, without backtraces.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


class BuildError(Exception):
    """A build failed for a reason the user can fix; the message says what, where and how."""


# Top-level modules that exist only as native extensions (or need one) and have no wasm32-wasi
# build on PyPI. Host detection below catches others that are installed on the build machine.
KNOWN_NATIVE_MODULES = frozenset(
    {
        "numpy",
        "pandas",
        "scipy",
        "pydantic_core",
        "orjson",
        "ujson",
        "lxml",
        "cryptography",
        "_cffi_backend",
        "psycopg2",
        "yaml",
        "_yaml",
        "regex",
        "tiktoken",
        "grpc",
        "zstandard",
        "uvloop",
        "wasmtime",
        "aiohttp",
        "greenlet",
        "PIL",
        "torch",
    }
)
# Standard-library modules the wasm32-wasi CPython does not ship or cannot use.
UNAVAILABLE_STDLIB = {
    "_ssl": "TLS is not available in a component; use http-client:distro:sys for HTTPS",
    "ssl": "TLS is not available in a component; use http-client:distro:sys for HTTPS",
    "_socket": "sockets are denied to processes; talk to other processes with messages",
    "socket": "sockets are denied to processes; talk to other processes with messages",
    "select": "sockets and select are denied to processes",
    "_multiprocessing": "processes cannot start subprocesses",
    "multiprocessing": "processes cannot start subprocesses",
    "_ctypes": "ctypes needs native code, which components cannot load",
    "ctypes": "ctypes needs native code, which components cannot load",
    "_tkinter": "there is no GUI inside a process",
    "tkinter": "there is no GUI inside a process",
    "readline": "there is no terminal inside a process",
}

_GUEST_PATH = re.compile(r"/(\d+)/")
_FILE_LINE = re.compile(r'^\s*File "([^"]+)", line (\d+)')
_MISSING_MODULE = re.compile(r"(?:ModuleNotFoundError|ImportError): No module named '([^']+)'")
_EXCEPTION_LINE = re.compile(
    r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)|[A-Z]\w+):\s?(.*)$"
)
_SYNTAX_KINDS = ("SyntaxError", "IndentationError", "TabError")


@dataclass(frozen=True)
class GuestPaths:
    """How the guest named the host directories on its Python path (`/0`, `/1`, ...).

    `originals` maps a staged directory back to where its files came from (the staged user sources
    map to the project directory), so tracebacks name the files the user edits.
    """

    python_path: tuple[Path, ...]
    originals: Mapping[Path, Path]
    labels: Mapping[Path, str]

    def host_path(self, index: int) -> str:
        staged = self.python_path[index]
        original = self.originals.get(staged)
        if original is not None:
            return str(original)
        return self.labels.get(staged, str(staged))

    def translate(self, text: str) -> str:
        def replace(match: re.Match[str]) -> str:
            index = int(match.group(1))
            if index >= len(self.python_path):
                return match.group(0)
            return self.host_path(index).rstrip("/") + "/"

        text = text.replace('"/world/', '"<generated bindings>/').replace('"/bundled/', '"<componentize-py>/')
        text = text.replace('"/python/', '"<python>/')
        return _GUEST_PATH.sub(replace, text)


def _strip_rust_noise(raw: str) -> str:
    """Drop the anyhow 'Caused by:' chain and any 'Stack backtrace:' that follows the guest output."""
    for marker in ("\nStack backtrace:", "\n\nCaused by:"):
        index = raw.find(marker)
        if index != -1:
            raw = raw[:index]
    return raw.strip("\n")


def _caused_by(raw: str) -> str:
    match = re.search(r"Caused by:\n(.*?)(?:\n\n|\nStack backtrace:|$)", raw, re.DOTALL)
    if not match:
        return ""
    lines = [re.sub(r"^\s*\d+:\s*", "", line).strip() for line in match.group(1).splitlines()]
    return "\n".join(line for line in lines if line)


def _user_traceback(text: str) -> str:
    """Keep the traceback header, the user's frames (with their source lines) and the exception."""
    kept: list[str] = []
    skipping = False
    for line in text.splitlines():
        frame = _FILE_LINE.match(line)
        if frame:
            skipping = frame.group(1).startswith(("<python>/", "<frozen ", "<componentize-py>/"))
        elif not line.startswith("  "):
            skipping = False
        if not skipping:
            kept.append(line)
    return "\n".join(kept)


def is_native_module(name: str) -> bool:
    """True if top-level module `name` is a known native extension or is one on this host."""
    top = name.split(".")[0]
    if top in KNOWN_NATIVE_MODULES:
        return True
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return False
    if spec is None:
        return False
    origin = spec.origin or ""
    if origin.endswith((".so", ".pyd")):
        return True
    locations = list(spec.submodule_search_locations or [])
    return any(
        path.suffix in (".so", ".pyd")
        for location in locations
        for path in Path(location).glob("*")
        if path.is_file()
    )


def native_module_message(module: str, *, via: str = "") -> str:
    top = module.split(".")[0]
    reason = UNAVAILABLE_STDLIB.get(top)
    if reason:
        return f"module {top!r} is not available inside a component: {reason}"
    origin = f" (imported by {via})" if via else ""
    return (
        f"module {top!r}{origin} is a native extension module (compiled C/Rust code): there is no "
        "wasm32-wasi build of it, so it cannot be imported inside a Hyperware process. Remove the "
        "import or use a pure-Python alternative"
    )


def translate_componentize_failure(raw: str, paths: GuestPaths, *, process: str, module: str) -> str:
    """One readable message for a failed componentize-py run of `module` (process `process`)."""
    body = paths.translate(_strip_rust_noise(raw))
    lines = body.splitlines()
    exception_line = next((line for line in reversed(lines) if _EXCEPTION_LINE.match(line)), "")
    head = f"process {process!r}: "

    if not exception_line:
        cause = paths.translate(_caused_by(raw)) or body
        if "Traceback" not in body and not _FILE_LINE.search(body):
            first = "\n".join(cause.splitlines()[:12])
            return f"{head}componentize-py failed while building module {module!r}:\n{first}"
        exception_line = cause.splitlines()[-1] if cause else ""

    kind = exception_line.split(":", 1)[0]
    if kind in _SYNTAX_KINDS:
        where = next((_FILE_LINE.match(line) for line in lines if _FILE_LINE.match(line)), None)
        location = f" in {where.group(1)}, line {where.group(2)}" if where else ""
        snippet = "\n".join(line for line in lines if not line.startswith("Traceback"))
        return f"{head}{kind.lower().replace('error', ' error')}{location}\n{_user_traceback(snippet)}"

    missing = _MISSING_MODULE.search(body)
    if missing:
        name = missing.group(1)
        frames = [m.group(1) for m in map(_FILE_LINE.match, lines) if m]
        via = frames[-1] if frames else ""
        if is_native_module(name) or name.split(".")[0] in UNAVAILABLE_STDLIB:
            detail = native_module_message(name, via=via)
        else:
            detail = (
                f"no module named {name!r}{f' (imported by {via})' if via else ''}: it is not in the "
                "project or its dependencies. Add the distribution to [project].dependencies in "
                "pyproject.toml (pure-Python packages only), or fix the import"
            )
        return f"{head}{detail}\n\n{_user_traceback(body)}"

    if "has no attribute 'WitWorld'" in exception_line:
        return (
            f"{head}module {module!r} has no WitWorld class: a raw process defines "
            "`class WitWorld:` with `def init(self, our: str)`"
        )

    return f"{head}importing module {module!r} failed with {exception_line}\n\n{_user_traceback(body)}"
