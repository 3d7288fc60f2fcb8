"""The PKI: who a node name is (networking key) and how to reach it (ip + ports, or routers).

Why: Hyperdrive's `net` finds every peer in its copy of Hypermap, whose notes `~net-key`, `~ip`,
`~ws-port`, `~tcp-port` and `~routers` become an `Identity` (lib `Identity`, `NodeRouting`;
`net/utils.rs` `ingest_log`). A local node has no chain, so `Pki` is the one small interface the
transport uses (`lookup`, `publish`, `entries`), and a chain-backed implementation can replace
`DirectoryPki` later without touching the transport.

`DirectoryPki` keeps one JSON file per node in a directory, so nodes in separate processes on one
machine find each other with no configuration: every `hyperpy run` publishes itself into the
directory of its *network* (default `default`; `--network NAME` or `HYPERPY_NETWORK` keep
independent runs apart, since they all like the name `fake.dev`). Like kit's fake chain, anyone on
the machine may register any name: the PKI is a development stand-in, and the handshake still
proves that a peer holds the key its entry names.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

DEFAULT_NETWORK = "default"
NETWORK_ENV = "HYPERPY_NETWORK"
PKI_DIR_ENV = "HYPERPY_PKI_DIR"
_NETWORK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class PkiError(ValueError):
    """A PKI entry or network name that cannot be used; the message says which and why."""


def fake_node_name(name: str) -> str:
    """kit's rule for `--fake-node-name`: a name without a dot gets `.dev` (`fake2` -> `fake2.dev`)."""
    return name if "." in name else f"{name}.dev"


@dataclass(frozen=True)
class Identity:
    """Hyperdrive's `Identity`: a name, its Ed25519 networking key, and how it is reached."""

    name: str
    networking_key: str  # "0x" + 64 hex digits, as the `~net-key` note holds it
    ip: str | None = None
    ports: dict[str, int] = field(default_factory=dict)
    routers: tuple[str, ...] = ()

    @property
    def is_direct(self) -> bool:
        return self.ip is not None and any(self.ports.get(p) for p in ("tcp", "ws"))

    def port(self, protocol: str) -> int | None:
        """`ws_routing()` / `tcp_routing()`: the port of `protocol` if published and not 0."""
        if self.ip is None:
            return None
        port = self.ports.get(protocol)
        return port or None

    def key_bytes(self) -> bytes:
        """The raw 32-byte public key (empty when the note is not valid hex, as Hyperdrive's
        `net_key_string_to_hex` gives; verification then fails)."""
        try:
            return bytes.fromhex(self.networking_key.removeprefix("0x"))
        except ValueError:
            return b""

    def to_wire(self) -> list[Any]:
        """rmp-serde's array form: `[name, key, {"Direct": [ip, ports]} | {"Routers": [..]}]`."""
        routing: dict[str, Any]
        if self.is_direct:
            routing = {"Direct": [self.ip, dict(sorted(self.ports.items()))]}
        else:
            routing = {"Routers": list(self.routers)}
        return [self.name, self.networking_key, routing]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "networking_key": self.networking_key,
            "ip": self.ip,
            "ports": dict(sorted(self.ports.items())),
            "routers": list(self.routers),
        }

    @classmethod
    def from_json(cls, value: Any) -> Identity:
        if not isinstance(value, dict):
            raise PkiError("a PKI entry must be a JSON object")
        try:
            name, key = value["name"], value["networking_key"]
            ip, ports, routers = value.get("ip"), value.get("ports") or {}, value.get("routers") or []
        except (KeyError, TypeError) as error:
            raise PkiError(f"a PKI entry lacks {error}") from None
        if not isinstance(name, str) or not isinstance(key, str):
            raise PkiError("a PKI entry's name and networking_key must be strings")
        if ip is not None and not isinstance(ip, str):
            raise PkiError(f"PKI entry {name}: ip must be a string")
        if not isinstance(ports, dict) or not all(
            isinstance(k, str) and type(v) is int and 0 <= v <= 65535 for k, v in ports.items()
        ):
            raise PkiError(f"PKI entry {name}: ports must map protocol names to port numbers")
        if not isinstance(routers, list) or not all(isinstance(r, str) for r in routers):
            raise PkiError(f"PKI entry {name}: routers must be a list of node names")
        return cls(name, key, ip, dict(ports), tuple(routers))


class Pki(Protocol):
    """What the transport needs from a PKI. Implementations must be safe to call from any thread."""

    def lookup(self, name: str) -> Identity | None:
        """The current entry for `name`, or None when the name is not registered."""
        ...

    def publish(self, identity: Identity) -> None:
        """Register (or update) an entry, as minting a name and setting its notes does."""
        ...

    def entries(self) -> list[Identity]:
        """Every known entry (for diagnostics)."""
        ...


def default_pki_dir(network: str | None = None) -> Path:
    """Where the nodes of `network` on this machine meet: `$HYPERPY_PKI_DIR`, else
    `$XDG_RUNTIME_DIR/hyperpy/networks/<network>`, else `<tmp>/hyperpy-<uid>/networks/<network>`."""
    explicit = os.environ.get(PKI_DIR_ENV)
    if explicit and network is None:
        return Path(explicit).expanduser()
    network = network or os.environ.get(NETWORK_ENV) or DEFAULT_NETWORK
    if not _NETWORK_NAME.match(network):
        raise PkiError(
            f"network name {network!r} must be 1-64 letters, digits, '.', '_' or '-' (for example 'test-42')"
        )
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(runtime) / "hyperpy" if runtime else Path(tempfile.gettempdir()) / f"hyperpy-{os.getuid()}"
    return base / "networks" / network


class DirectoryPki:
    """A PKI in a directory: `<root>/<name>.json` per node, written atomically (see module doc)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, name: str) -> Path:
        if not name or "/" in name or name.startswith("."):
            raise PkiError(f"{name!r} is not a node name")
        return self.root / f"{name}.json"

    def lookup(self, name: str) -> Identity | None:
        try:
            text = self._path(name).read_text(encoding="utf-8")
        except (OSError, PkiError):
            return None
        try:
            identity = Identity.from_json(json.loads(text))
        except (ValueError, PkiError):
            return None
        return identity if identity.name == name else None

    def publish(self, identity: Identity) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self._path(identity.name)
        descriptor, temporary = tempfile.mkstemp(dir=self.root, prefix=f".{identity.name}.", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(identity.to_json(), handle)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def entries(self) -> list[Identity]:
        found = []
        for path in sorted(self.root.glob("*.json")) if self.root.is_dir() else []:
            identity = self.lookup(path.stem)
            if identity is not None:
                found.append(identity)
        return found


class JoinedPki:
    """This machine's `DirectoryPki`, kept in sync with another machine's node (`--join HOST:PORT`).

    Why: nodes on other machines share no directory. The joined node serves its machine's PKI on its
    WebSocket networking port (`GET`/`POST /hyperpy/pki`, next to the protocol's WebSocket); every
    `SYNC_INTERVAL` seconds a joining node pushes the entries it published and pulls the others, so
    every node that joined one node sees every other. Entries this machine published are never
    overwritten by pulled copies.
    """

    SYNC_INTERVAL = 2.0

    def __init__(self, local: DirectoryPki, remote: str) -> None:
        self.local = local
        self.root = local.root
        self.remote = remote if "://" in remote else f"http://{remote}"
        self._ours: dict[str, Identity] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self.last_error: str | None = None
        self._thread = threading.Thread(target=self._run, name="hyperpy-pki-sync", daemon=True)
        self._thread.start()

    def lookup(self, name: str) -> Identity | None:
        return self.local.lookup(name)

    def publish(self, identity: Identity) -> None:
        self.local.publish(identity)
        with self._lock:
            self._ours[identity.name] = identity
        self.sync()

    def entries(self) -> list[Identity]:
        return self.local.entries()

    def sync(self, timeout: float = 5.0) -> None:
        """Push and pull now (blocks until done, at most `timeout`)."""
        done = self._synced = threading.Event()
        self._wake.set()
        done.wait(timeout)

    def close(self) -> None:
        self._stopped.set()
        self._wake.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        self._synced = threading.Event()
        while not self._stopped.is_set():
            synced = self._synced
            try:
                self._exchange()
                self.last_error = None
            except (OSError, ValueError, PkiError) as error:
                self.last_error = f"PKI sync with {self.remote} failed: {error}"
            synced.set()
            self._wake.wait(self.SYNC_INTERVAL)
            self._wake.clear()

    def _exchange(self) -> None:
        url = f"{self.remote}/hyperpy/pki"
        with self._lock:
            ours = list(self._ours.values())
        for identity in ours:
            request = urllib.request.Request(
                url,
                data=json.dumps(identity.to_json()).encode(),
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            with _NO_PROXY.open(request, timeout=5) as response:
                response.read()
        with _NO_PROXY.open(url, timeout=5) as response:
            pulled = json.loads(response.read())
        if not isinstance(pulled, list):
            raise PkiError(f"{url} did not answer a list of PKI entries")
        for value in pulled:
            identity = Identity.from_json(value)
            with self._lock:
                if identity.name in self._ours:
                    continue
            if self.local.lookup(identity.name) != identity:
                self.local.publish(identity)


_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
