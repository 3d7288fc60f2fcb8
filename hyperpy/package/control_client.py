"""The client side of the control surface: what `hyperpy inject` and `hyperpy start-package` send.

Why it speaks kit's protocol exactly (same endpoint, same JSON, same two app-store steps): so the
same commands work against the local node *and* a real Hyperdrive started with `--expose-local`,
and so a difference between the two is the emulator's bug, never the client's.

Synchronous on purpose: the CLI and the pytest helpers call it from plain threads, and the node under
test runs its own event loop on its own thread. Proxies from the environment are ignored, as kit's
local calls do not go through one either.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from hyperpy.package.archive import PackageZip, PackageZipError, sha256_bytes
from hyperpy.package.control_wire import (
    APP_STORE_PROCESS,
    KIT_EXPECTS_RESPONSE,
    RPC_PATH,
    InstallResponse,
    NewPackageResponse,
    OnchainMetadata,
    RpcMessage,
    RpcReply,
    install_body,
    kit_json_text,
    make_rpc_message,
    new_package_body,
)
from hyperpy.package.manifest import ManifestError, parse_manifest
from hyperpy.package.metadata import MetadataError, parse_metadata
from hyperpy.runtime import jsonwire

DEFAULT_URL = "http://localhost:8080"
HTTP_GRACE_SECONDS = 10
"""Extra seconds the HTTP call waits beyond `expects_response`, so the node's own 408 arrives first."""


class ControlError(Exception):
    """A control-surface call failed; the message says what happened and what to try."""


def rpc_url(url: str) -> str:
    """The endpoint for a node URL, accepting either the node's base URL or the full endpoint (as kit)."""
    if url.endswith(RPC_PATH):
        return url
    return url.rstrip("/") + RPC_PATH


def node_url(port: int, host: str = "localhost") -> str:
    return f"http://{host}:{port}"


@dataclass(frozen=True)
class RpcOutcome:
    """What the node answered: the HTTP status and, for a blocking message, the parsed reply."""

    status: int
    reply: RpcReply | None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def post_rpc(url: str, message: RpcMessage, *, http_timeout: float | None = None) -> RpcOutcome:
    """POST one message to the node's rpc endpoint; raise ControlError on transport or status failure."""
    endpoint = rpc_url(url)
    data = kit_json_text(message.kit_json()).encode()
    request = urllib.request.Request(
        endpoint, data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    if http_timeout is None:
        waited = message.expects_response if message.expects_response is not None else 0
        http_timeout = waited + HTTP_GRACE_SECONDS
    try:
        with _OPENER.open(request, timeout=http_timeout) as response:
            status = response.status
            payload = response.read()
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace").strip()[:500]
        raise ControlError(_status_problem(error.code, endpoint, message.process, detail)) from None
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise ControlError(
            f"could not reach a node at {endpoint}: {reason}. Is a node running there "
            "(`hyperpy run`, or Hyperdrive started with `--expose-local`)? Check --port / --url."
        ) from None
    if message.expects_response is None:
        return RpcOutcome(status, None)
    try:
        reply = RpcReply.model_validate_json(payload)
    except ValidationError as error:
        raise ControlError(
            f"the node at {endpoint} answered 200 but not with "
            f'{{"body":[bytes],"lazy_load_blob":..}}: {error}'
        ) from None
    return RpcOutcome(status, reply)


def _status_problem(status: int, endpoint: str, process: str, reason: str = "") -> str:
    if status == 408 and reason:
        # the local node says why the kernel refused the message at once (Hyperdrive sends no body)
        return (
            f"the node refused the message to {process} at once (HTTP 408 from {endpoint}): {reason}. "
            "A process receives rpc messages only if it is public or grants http-server:distro:sys"
        )
    if status == 408:
        return (
            f"{process} did not respond in time (HTTP 408 from {endpoint}). If it never got the message: "
            "a process receives rpc messages only if it is public or grants http-server:distro:sys, and "
            "can answer only if it requests the http-server:distro:sys capability (see the node's output)"
        )
    if status == 400:
        return f"the node at {endpoint} refused the message as malformed (HTTP 400): check the process id"
    if status == 403:
        return (
            f"the node at {endpoint} refused the message (HTTP 403): the rpc endpoint is local-only; "
            "call it from the node's machine (Hyperdrive also needs `--expose-local`)"
        )
    if status == 404:
        return f"nothing is bound at {endpoint} (HTTP 404): is this a Hyperware node?"
    return f"the node at {endpoint} answered HTTP {status} for a message to {process}"


@dataclass(frozen=True)
class InjectResult:
    """The answer to an injected message. `reply` is None for a fire-and-forget message."""

    status: int
    reply: RpcReply | None

    def body_text(self) -> str:
        """The response body as text (kit prints it the same way); raise ControlError if not UTF-8."""
        if self.reply is None:
            return ""
        try:
            return self.reply.body_bytes().decode()
        except UnicodeDecodeError:
            raise ControlError("the response body is not UTF-8 text") from None

    def blob(self) -> bytes | None:
        if self.reply is None:
            return None
        try:
            return self.reply.blob_bytes()
        except ValueError as error:
            raise ControlError(str(error)) from None


def inject(
    url: str,
    process: str,
    body: str,
    *,
    node: str | None = None,
    blob: bytes | None = None,
    expects_response: int | None = KIT_EXPECTS_RESPONSE,
) -> InjectResult:
    """Send one message to `process` (on `node`, default the node behind `url`), as `kit inject-message`."""
    message = make_rpc_message(process, body, node=node, expects_response=expects_response, data=blob)
    outcome = post_rpc(url, message)
    return InjectResult(outcome.status, outcome.reply)


@dataclass(frozen=True)
class PackageUpload:
    """Everything start-package sends: the zip, its sha256 (the version hash) and the Install metadata."""

    zip_path: Path
    zip_bytes: bytes
    version_hash: str
    metadata: OnchainMetadata

    @property
    def package_id(self) -> str:
        return f"{self.metadata.properties.package_name}:{self.metadata.properties.publisher}"


def _read_metadata(path: Path) -> OnchainMetadata:
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise ControlError(
            f"{path} not found: start-package needs the package's metadata.json "
            "(run `hyperpy build` in the project, or pass --metadata FILE)"
        ) from None
    try:
        return OnchainMetadata.from_package_metadata(parse_metadata(text, str(path)))
    except MetadataError as error:
        raise ControlError(str(error)) from None


def _check_zip_contents(zip_path: Path, zip_bytes: bytes) -> None:
    """kit's `check_manifest`, applied to what is really shipped: the manifest inside the zip."""
    try:
        archive = PackageZip(zip_bytes, str(zip_path))
        manifest_text = archive.read("manifest.json") if archive.has_file("manifest.json") else None
    except PackageZipError as error:
        raise ControlError(str(error)) from None
    if manifest_text is None:
        raise ControlError(
            f"{zip_path} has no manifest.json at its root: the zip must hold the contents of pkg/"
        )
    try:
        entries = parse_manifest(manifest_text, f"{zip_path.name}:manifest.json")
    except ManifestError as error:
        raise ControlError(str(error)) from None
    missing = [e.process_wasm_path for e in entries if not archive.has_file(e.wasm_file_name)]
    if missing:
        raise ControlError(
            f"{zip_path} lacks the wasm file(s) its manifest declares: {', '.join(missing)}; "
            "rebuild the package (`hyperpy build`)"
        )


def prepare_upload(source: Path, metadata_path: Path | None = None) -> PackageUpload:
    """Resolve a project directory or a zip into what start-package sends, with kit's local checks.

    A directory must be built already (kit does not build either): `metadata.json`, `pkg/` and
    `target/<package>:<publisher>.zip`. For a bare zip, metadata.json is taken from `metadata_path`, or
    from the project around it when the zip sits in a `target/` directory.
    """
    source = source.resolve()
    if source.is_dir():
        if not (source / "pkg").is_dir():
            raise ControlError(
                f"no pkg/ directory in {source}: pass a built package directory "
                "(run `hyperpy build` there first) or a package zip"
            )
        metadata = _read_metadata(metadata_path or source / "metadata.json")
        p = metadata.properties
        zip_path = source / "target" / f"{p.package_name}:{p.publisher}.zip"
        if not zip_path.is_file():
            raise ControlError(f"missing package zip {zip_path}; run `hyperpy build {source}` first")
    elif source.is_file():
        zip_path = source
        if metadata_path is None:
            if source.parent.name != "target":
                raise ControlError(
                    f"cannot find metadata.json for {source}: pass --metadata FILE "
                    "(or the project directory instead of the zip)"
                )
            metadata_path = source.parent.parent / "metadata.json"
        metadata = _read_metadata(metadata_path)
    else:
        raise ControlError(f"{source} does not exist: pass a package directory or a package zip")
    zip_bytes = zip_path.read_bytes()
    _check_zip_contents(zip_path, zip_bytes)
    version_hash = sha256_bytes(zip_bytes)
    return PackageUpload(zip_path, zip_bytes, version_hash, metadata)


def _reply_value(outcome: RpcOutcome, key: str, step: str) -> str:
    if outcome.reply is None:
        raise ControlError(f"{step}: the node sent no response body")
    try:
        body = jsonwire.loads(outcome.reply.body_bytes())
    except (ValueError, UnicodeDecodeError):
        raise ControlError(f"{step}: the node answered with a body that is not JSON") from None
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, str):
        raise ControlError(f"{step}: unexpected response from the node: {json.dumps(body)}")
    return value


def start_package(url: str, upload: PackageUpload, *, node: str | None = None) -> None:
    """Add and install a package on the node at `url`, as `kit start-package`: NewPackage, then Install.

    Raises ControlError with the node's answer unless both steps report Success.
    """
    p = upload.metadata.properties
    new_package = make_rpc_message(
        APP_STORE_PROCESS,
        new_package_body(p.package_name, p.publisher),
        node=node,
        data=upload.zip_bytes,
    )
    answer = _reply_value(post_rpc(url, new_package), "NewPackageResponse", "NewPackage")
    if answer != NewPackageResponse.SUCCESS.value:
        raise ControlError(f"failed to add package {upload.package_id}: the node answered {answer!r}")
    install = make_rpc_message(
        APP_STORE_PROCESS, install_body(upload.version_hash, upload.metadata), node=node
    )
    answer = _reply_value(post_rpc(url, install), "InstallResponse", "Install")
    if answer != InstallResponse.SUCCESS.value:
        raise ControlError(
            f"failed to start package {upload.package_id}: the node answered {answer!r} "
            "(see the node's terminal output for the reason)"
        )
