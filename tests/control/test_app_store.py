"""main:app-store:sys answers NewPackage and Install exactly as Hyperdrive's app store does."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest

from hyperpy.node.contracts import KernelMessage
from hyperpy.node.control.app_store import AppStore
from hyperpy.node.wit_types import (
    Address,
    LazyLoadBlob,
    Message_Request,
    Message_Response,
    PackageId,
    ProcessId,
    Request,
)

HTTP_SERVER = Address("fake.dev", ProcessId("http-server", "distro", "sys"))
APP_STORE = Address("fake.dev", ProcessId("main", "app-store", "sys"))
PACKAGE_ID = {"package_name": "echo", "publisher_node": "template.os"}


def package_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", "[]")
        archive.writestr("echo.wasm", b"\0asm")
    return buffer.getvalue()


def request(
    body: dict, blob: bytes | None = None, source: Address = HTTP_SERVER, id: int = 7
) -> KernelMessage:
    return KernelMessage(
        id=id,
        source=source,
        target=APP_STORE,
        rsvp=source,
        message=Message_Request(Request(False, 15, json.dumps(body).encode(), None, [])),
        lazy_load_blob=None if blob is None else LazyLoadBlob("application/octet-stream", blob),
    )


class Installs:
    """The node side of the app store, recorded: what it was asked to install and kill."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[tuple[PackageId, bytes]] = []
        self.killed: list[ProcessId] = []
        self.error = error

    async def install(self, package_id: PackageId, zip_bytes: bytes) -> None:
        self.calls.append((package_id, zip_bytes))
        if self.error is not None:
            raise self.error

    async def kill(self, process_id: ProcessId) -> bool:
        self.killed.append(process_id)
        return True


def run(store: AppStore, services, *messages: KernelMessage) -> list[dict]:
    """Start the store, feed it messages, return the JSON bodies of its Responses."""

    async def go() -> None:
        await store.start(services)
        for message in messages:
            await store.handle(message)

    asyncio.run(go())
    replies = []
    ids = {message.id for message in messages}
    for sent in services.sent:
        assert isinstance(sent.message, Message_Response)
        assert sent.source == APP_STORE and sent.target == HTTP_SERVER and sent.id in ids
        replies.append(json.loads(sent.message.value[0].body))
    return replies


def installed_drive(services, manifest: list[dict], api: bytes | None = None) -> Path:
    """A package drive as an install leaves it: `vfs/echo:template.os/pkg/` with its manifest."""
    drive = services.home / "vfs" / "echo:template.os" / "pkg"
    drive.mkdir(parents=True)
    (drive / "manifest.json").write_text(json.dumps(manifest))
    if api is not None:
        (drive / "api.zip").write_bytes(api)
    return drive


def new_package(blob: bytes | None) -> KernelMessage:
    return request({"NewPackage": {"package_id": PACKAGE_ID, "mirror": True}}, blob)


def install(version_hash: str, id: int = 8) -> KernelMessage:
    return request(
        {"Install": {"package_id": PACKAGE_ID, "version_hash": version_hash, "metadata": None}}, id=id
    )


def test_new_package_stores_the_zip_by_its_sha256(services) -> None:
    data = package_zip()
    digest = hashlib.sha256(data).hexdigest()

    replies = run(AppStore(Installs()), services, new_package(data))

    assert replies == [{"NewPackageResponse": "Success"}]
    downloads = services.home / "vfs" / "app-store:sys" / "downloads" / "echo:template.os"
    assert (downloads / f"{digest}.zip").read_bytes() == data
    assert (downloads / f"{digest}.json").read_text() == "[]"


def test_new_package_without_a_blob_is_no_blob(services) -> None:
    assert run(AppStore(Installs()), services, new_package(None)) == [{"NewPackageResponse": "NoBlob"}]


def test_new_package_with_a_blob_that_is_not_a_zip_fails(services) -> None:
    replies = run(AppStore(Installs()), services, new_package(b"not a zip"))

    assert replies == [{"NewPackageResponse": "InstallFailed"}]
    assert any("not a zip" in text for _, text in services.printed)


def test_install_hands_the_stored_zip_to_the_node(services) -> None:
    data = package_zip()
    installs = Installs()

    replies = run(AppStore(installs), services, new_package(data), install(hashlib.sha256(data).hexdigest()))

    assert replies == [{"NewPackageResponse": "Success"}, {"InstallResponse": "Success"}]
    assert installs.calls == [(PackageId("echo", "template.os"), data)]


def test_install_of_an_unknown_hash_fails_without_installing(services) -> None:
    installs = Installs()

    replies = run(AppStore(installs), services, install("0" * 64))

    assert replies == [{"InstallResponse": "Failure"}]
    assert installs.calls == []


def test_a_refused_install_is_a_failure_with_the_reason_printed(services) -> None:
    data = package_zip()
    installs = Installs(ValueError("manifest.json: [0].public: required field is missing"))

    replies = run(AppStore(installs), services, new_package(data), install(hashlib.sha256(data).hexdigest()))

    assert replies[-1] == {"InstallResponse": "Failure"}
    assert any("public: required field is missing" in text for _, text in services.printed)


@pytest.mark.parametrize(
    "message",
    [
        request(
            {"NewPackage": {"package_id": PACKAGE_ID, "mirror": True}},
            source=Address("other.dev", HTTP_SERVER.process),
        ),
        request({"Frobnicate": {}}),
    ],
    ids=["remote-source", "unknown-request"],
)
def test_foreign_or_malformed_requests_get_no_reply(services, message: KernelMessage) -> None:
    installs = Installs()

    assert run(AppStore(installs), services, message) == []
    assert installs.calls == []
    assert services.printed


ENTRY = {
    "process_name": "echo",
    "process_wasm_path": "/echo.wasm",
    "on_exit": "Restart",
    "request_networking": False,
    "request_capabilities": [],
    "grant_capabilities": [],
    "public": True,
}


def test_get_api_returns_the_installed_api_zip_as_the_blob(services) -> None:
    installed_drive(services, [ENTRY], api=b"PK api zip")

    replies = run(AppStore(Installs()), services, request({"GetApi": PACKAGE_ID}))

    assert replies == [{"GetApiResponse": "Success"}]
    assert services.sent[0].lazy_load_blob == LazyLoadBlob("application/json", b"PK api zip")


def test_get_api_of_a_package_without_api_is_a_failure(services) -> None:
    installed_drive(services, [ENTRY])

    assert run(AppStore(Installs()), services, request({"GetApi": PACKAGE_ID})) == [
        {"GetApiResponse": "Failure"}
    ]
    assert services.sent[0].lazy_load_blob is None


def test_apis_lists_the_packages_with_an_api(services) -> None:
    installed_drive(services, [ENTRY], api=b"PK")

    replies = run(AppStore(Installs()), services, request("Apis"))

    assert replies == [{"ApisResponse": {"apis": [PACKAGE_ID]}}]


def test_uninstall_kills_the_manifests_processes_and_removes_the_drive(services) -> None:
    drive = installed_drive(services, [ENTRY, dict(ENTRY, process_name="worker")])
    installs = Installs()

    replies = run(AppStore(installs), services, request({"Uninstall": PACKAGE_ID}))

    assert replies == [{"UninstallResponse": "Success"}]
    assert installs.killed == [
        ProcessId("echo", "echo", "template.os"),
        ProcessId("worker", "echo", "template.os"),
    ]
    assert not drive.exists()


def test_uninstall_of_a_package_that_is_not_installed_fails(services) -> None:
    installs = Installs()

    assert run(AppStore(installs), services, request({"Uninstall": PACKAGE_ID})) == [
        {"UninstallResponse": "Failure"}
    ]
    assert installs.killed == []
