"""kit's wire shapes for the node's control surface, as pydantic models.

Why one module: the client (`hyperpy inject`, `hyperpy start-package`), the server endpoint
(`POST /rpc:distro:sys/message`) and the emulated app store must agree byte for byte with kit and with
Hyperdrive, so every shape is written down once, here, with the source it mirrors:

* `RpcMessage` / `RpcReply`: Hyperdrive's `http/utils.rs` `RpcMessage` and the reply built in
  `http/server.rs` `handle_app_message` (the blob's bytes are the ASCII of its base64 text).
* `NewPackageRequest`, `InstallPackageRequest` and their responses: the `main` interface of
  `app-store:sys-v2.wit`, serialised by serde as externally tagged enums (`{"NewPackage":{...}}`,
  `{"NewPackageResponse":"Success"}`).
* `OnchainMetadata`: the Install metadata, i.e. `metadata.json` with `code_hashes` as a list of
  `[version, hash]` pairs instead of a map (kit converts it in `start_package::install`).

See shared/reference/runtime-contract.md §2.6 and §2.7.
"""

from __future__ import annotations

import base64
import binascii
import builtins
from enum import StrEnum
from typing import Annotated, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hyperpy.package.metadata import PackageMetadata
from hyperpy.runtime import jsonwire

RPC_PATH = "/rpc:distro:sys/message"
"""The path Hyperdrive's http-server pre-binds (local only, unauthenticated) for kit."""

APP_STORE_PROCESS = "main:app-store:sys"
"""The process kit's start-package talks to."""

KIT_EXPECTS_RESPONSE = 15
"""Seconds kit puts in `expects_response` for a blocking inject and for both start-package steps."""

Byte = Annotated[int, Field(ge=0, le=255)]
"""serde's `Vec<u8>`: a JSON array of integers 0..255."""

KIT_RPC_MIME = "application/octet-stream"
"""The mime kit always sends, with or without data."""


def kit_json_text(value: object) -> str:
    """JSON text as kit writes it: serde_json's `json!` (a BTreeMap, so keys sorted), compact, UTF-8.
    Written by `hyperpy.runtime.jsonwire`, the one serde_json writer."""
    return jsonwire.dumps_str(value, sort_keys=True)


class RpcMessage(BaseModel):
    """The JSON posted to `/rpc:distro:sys/message`.

    Hyperdrive declares every field but `process` as optional (a missing field reads as null) and
    ignores unknown ones; `inherit` and `context` are accepted and ignored by the node.
    """

    model_config = ConfigDict(extra="ignore")

    node: str | None = None
    process: str
    inherit: bool | None = None
    expects_response: int | None = Field(default=None, ge=0)
    body: str | None = None
    metadata: str | None = None
    context: str | None = None
    mime: str | None = None
    data: str | None = None

    def kit_json(self) -> dict[str, Any]:
        """The request as kit's `inject_message::make_message` builds it (every key, nulls included);
        `kit_json_text` of it is the exact body kit posts."""
        return {
            "node": self.node,
            "process": self.process,
            "inherit": bool(self.inherit),
            "expects_response": self.expects_response,
            "body": self.body,
            "metadata": self.metadata,
            "context": self.context,
            "mime": self.mime,
            "data": self.data,
        }

    def blob_parts(self) -> tuple[str | None, bytes] | None:
        """The blob Hyperdrive attaches, as (mime, bytes): decoded `data` with `mime`; undecodable data
        means no blob. (The node wraps it in its LazyLoadBlob; this layer does not know the node.)"""
        if self.data is None:
            return None
        try:
            payload = base64.b64decode(self.data, validate=True)
        except (binascii.Error, ValueError):
            return None
        return self.mime, payload


def make_rpc_message(
    process: str,
    body: str,
    *,
    node: str | None = None,
    expects_response: int | None = KIT_EXPECTS_RESPONSE,
    data: bytes | None = None,
) -> RpcMessage:
    """Build the message kit sends: inherit false, no metadata/context, octet-stream mime, base64 data."""
    return RpcMessage(
        node=node,
        process=process,
        inherit=False,
        expects_response=expects_response,
        body=body,
        metadata=None,
        context=None,
        mime=KIT_RPC_MIME,
        data=None if data is None else base64.b64encode(data).decode("ascii"),
    )


class BlobLike(Protocol):
    """A blob as the node holds it (`LazyLoadBlob`: mime + bytes)."""

    @property
    def mime(self) -> str | None: ...

    @property
    def bytes(self) -> builtins.bytes: ...


class RpcBlob(BaseModel):
    """A reply blob: `bytes` are the ASCII codes of the base64 text of the real bytes (Hyperdrive's quirk)."""

    mime: str | None = None
    bytes: list[Byte]

    @classmethod
    def encode(cls, blob: BlobLike) -> RpcBlob:
        return cls(mime=blob.mime, bytes=list(base64.b64encode(blob.bytes)))

    def decode(self) -> builtins.bytes:
        """The real blob bytes; raise ValueError if the ASCII is not base64 (not a Hyperdrive reply)."""
        try:
            return base64.b64decode(builtins.bytes(self.bytes), validate=True)
        except (binascii.Error, ValueError) as error:
            raise ValueError(f"lazy_load_blob.bytes is not base64 text: {error}") from error


class RpcReply(BaseModel):
    """The 200 reply to a message that expected a response: the response body and its blob."""

    body: list[Byte]
    lazy_load_blob: RpcBlob | None = None

    @classmethod
    def from_response(cls, body: builtins.bytes, blob: BlobLike | None) -> RpcReply:
        return cls(body=list(body), lazy_load_blob=None if blob is None else RpcBlob.encode(blob))

    def to_json_bytes(self) -> bytes:
        """Serialise like serde_json: compact, fields in declaration order."""
        return jsonwire.dumps(self.model_dump(mode="json"))

    def body_bytes(self) -> bytes:
        return bytes(self.body)

    def blob_bytes(self) -> bytes | None:
        return None if self.lazy_load_blob is None else self.lazy_load_blob.decode()


class PackageIdJson(BaseModel):
    """`PackageId` as an object, the way app-store bodies carry it (not the `pkg:pub` string)."""

    model_config = ConfigDict(extra="forbid")

    package_name: str
    publisher_node: str

    def __str__(self) -> str:
        return f"{self.package_name}:{self.publisher_node}"


class NewPackageRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    package_id: PackageIdJson
    mirror: bool


class OnchainProperties(BaseModel):
    """`metadata.properties` as Install carries it: `code_hashes` is a list of `[version, hash]` pairs."""

    package_name: str
    publisher: str
    current_version: str
    mirrors: list[str]
    code_hashes: list[tuple[str, str]]
    license: str | None = None
    screenshots: list[str] | None = None
    wit_version: int | None = None
    dependencies: list[str] | None = None
    api_includes: list[str] | None = None


class OnchainMetadata(BaseModel):
    name: str | None = None
    description: str | None = None
    image: str | None = None
    external_url: str | None = None
    animation_url: str | None = None
    properties: OnchainProperties

    @classmethod
    def from_package_metadata(cls, metadata: PackageMetadata) -> OnchainMetadata:
        """The Install form of a validated metadata.json: code_hashes become `[version, hash]` pairs."""
        p = metadata.properties
        return cls(
            name=metadata.name,
            description=metadata.description,
            image=metadata.image,
            external_url=metadata.external_url,
            animation_url=metadata.animation_url,
            properties=OnchainProperties(
                package_name=p.package_name,
                publisher=p.publisher,
                current_version=p.current_version,
                mirrors=p.mirrors,
                code_hashes=list(p.code_hashes.items()),
                license=p.license,
                screenshots=p.screenshots,
                wit_version=p.wit_version,
                dependencies=p.dependencies,
                api_includes=p.api_includes,
            ),
        )

    def kit_json(self) -> dict[str, Any]:
        """The metadata object exactly as kit's `start_package::install` writes it (all keys, nulls kept)."""
        p = self.properties
        return {
            "name": self.name,
            "description": self.description,
            "image": self.image,
            "external_url": self.external_url,
            "animation_url": self.animation_url,
            "properties": {
                "package_name": p.package_name,
                "publisher": p.publisher,
                "current_version": p.current_version,
                "mirrors": p.mirrors,
                "code_hashes": [list(pair) for pair in p.code_hashes],
                "license": p.license,
                "screenshots": p.screenshots,
                "wit_version": p.wit_version,
                "dependencies": p.dependencies,
                "api_includes": p.api_includes,
            },
        }


class InstallPackageRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    package_id: PackageIdJson
    metadata: OnchainMetadata | None = None
    version_hash: str


class NewPackageResponse(StrEnum):
    SUCCESS = "Success"
    NO_BLOB = "NoBlob"
    INSTALL_FAILED = "InstallFailed"
    ALREADY_EXISTS = "AlreadyExists"


class InstallResponse(StrEnum):
    SUCCESS = "Success"
    FAILURE = "Failure"


def new_package_body(package_name: str, publisher: str) -> str:
    """The NewPackage body string kit sends (always `mirror: true`)."""
    body = {
        "NewPackage": {
            "package_id": {"package_name": package_name, "publisher_node": publisher},
            "mirror": True,
        }
    }
    return kit_json_text(body)


def install_body(version_hash: str, metadata: OnchainMetadata) -> str:
    """The Install body string kit sends: package id from the metadata, the zip hash, the metadata."""
    body = {
        "Install": {
            "package_id": {
                "package_name": metadata.properties.package_name,
                "publisher_node": metadata.properties.publisher,
            },
            "version_hash": version_hash,
            "metadata": metadata.kit_json(),
        }
    }
    return kit_json_text(body)


class UninstallResponse(StrEnum):
    SUCCESS = "Success"
    FAILURE = "Failure"


class GetApiResponse(StrEnum):
    SUCCESS = "Success"
    FAILURE = "Failure"


class UninstallRequest(BaseModel):
    """`{"Uninstall": package_id}`."""

    package_id: PackageIdJson


class GetApiRequest(BaseModel):
    """`{"GetApi": package_id}`: the package's `api.zip` comes back as the response blob."""

    package_id: PackageIdJson


class ApisRequest(BaseModel):
    """`"Apis"`: list the packages whose API the app store holds."""


AppStoreRequest = NewPackageRequest | InstallPackageRequest | UninstallRequest | GetApiRequest | ApisRequest


def _reply(tag: str, value: object) -> bytes:
    """A `LocalResponse` body as the app store's serde writes it (struct fields in declaration order)."""
    return jsonwire.dumps({tag: value})


def new_package_reply(response: NewPackageResponse) -> bytes:
    return _reply("NewPackageResponse", response.value)


def install_reply(response: InstallResponse) -> bytes:
    return _reply("InstallResponse", response.value)


def uninstall_reply(response: UninstallResponse) -> bytes:
    return _reply("UninstallResponse", response.value)


def get_api_reply(response: GetApiResponse) -> bytes:
    return _reply("GetApiResponse", response.value)


def apis_reply(package_ids: list[PackageIdJson]) -> bytes:
    return _reply("ApisResponse", {"apis": [p.model_dump() for p in package_ids]})


APP_STORE_SHAPES = (
    '{"NewPackage":{"package_id":{..},"mirror":bool}} (+ the zip as blob), '
    '{"Install":{"package_id":{..},"version_hash":"..","metadata":{..}|null}}, '
    '{"Uninstall":{"package_name":"..","publisher_node":".."}}, "Apis", or {"GetApi":{..package id..}}'
)


def parse_app_store_request(body: bytes) -> AppStoreRequest:
    """Parse a `main:app-store:sys` local request body; raise ValueError naming the expected shapes."""
    try:
        value = jsonwire.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise ValueError(f"app-store request body is not JSON: {error}") from error
    if value == "Apis":
        return ApisRequest()
    if isinstance(value, dict) and len(value) == 1:
        ((tag, payload),) = value.items()
        try:
            if tag == "NewPackage":
                return NewPackageRequest.model_validate(payload)
            if tag == "Install":
                return InstallPackageRequest.model_validate(payload)
            if tag == "Uninstall":
                return UninstallRequest(package_id=PackageIdJson.model_validate(payload))
            if tag == "GetApi":
                return GetApiRequest(package_id=PackageIdJson.model_validate(payload))
        except ValidationError as error:
            raise ValueError(f"app-store {tag} request has the wrong shape: {error}") from error
    raise ValueError(f"app-store request must be one of {APP_STORE_SHAPES}")
