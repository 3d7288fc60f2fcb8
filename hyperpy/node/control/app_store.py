"""`main:app-store:sys` as far as `kit start-package` sees it: NewPackage, then Install.

Hyperdrive's app store is a userspace package (main, downloads, chain). The emulator keeps only the
part a developer's install goes through, as a host-side process on the kernel's loop, with the same
bodies, the same replies and the same storage layout (runtime-contract.md §2.7):

* requests must come from our node; anything else, and any body that is not a local request, is
  dropped with a printout and no reply (the app store logs "error handling message" and moves on);
* **NewPackage** needs a blob (else `NoBlob`), stores it as
  `vfs/app-store:sys/downloads/<pkg>:<pub>/<sha256>.zip` plus the zip's `manifest.json` as
  `<sha256>.json`, and answers `Success`; a blob that is not a package zip gives `InstallFailed`;
* **Install** looks up `<version_hash>.zip` there — the only hash check a sideload gets: a hash no
  NewPackage stored is a `Failure` — and hands the zip to the node's installer, answering `Success`
  or `Failure` (the reason goes to the terminal, as on a node);
* **Uninstall** kills every process the installed manifest names and removes the package drive
  (`Failure` when the package is not installed);
* **Apis** lists, and **GetApi** returns as a blob (mime `application/json`, as the app store labels
  it), the `pkg/api.zip` of installed packages — what `kit build` and `hyperpy wit --url` fetch for a
  package's dependencies.

The app store's own state (which packages it installed) is read from the package drives, so a
package installed with `Node.install` counts as installed too, and the answers survive a reboot.

Where the emulator differs: with `metadata: null` a real node asks `chain:app-store:sys` for the
published metadata; the emulator has no chain, so it installs anyway and says so on the terminal.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Protocol

from hyperpy.node.contracts import KernelMessage
from hyperpy.node.install import package_drive_dir
from hyperpy.node.modules.base import ModuleBase, request_of
from hyperpy.node.persistence import atomic_write
from hyperpy.node.well_known import APP_STORE_PROCESS_ID
from hyperpy.node.wit_types import LazyLoadBlob, PackageId, ProcessId
from hyperpy.package.archive import PackageZip, PackageZipError, sha256_bytes
from hyperpy.package.control_wire import (
    GetApiRequest,
    GetApiResponse,
    InstallPackageRequest,
    InstallResponse,
    NewPackageRequest,
    NewPackageResponse,
    PackageIdJson,
    UninstallRequest,
    UninstallResponse,
    apis_reply,
    get_api_reply,
    install_reply,
    new_package_reply,
    parse_app_store_request,
    uninstall_reply,
)
from hyperpy.package.manifest import ManifestError, parse_manifest

APP_STORE = APP_STORE_PROCESS_ID
DOWNLOADS_DRIVE = Path("app-store:sys") / "downloads"


def _package_id(package_id: PackageIdJson) -> PackageId:
    return PackageId(package_id.package_name, package_id.publisher_node)


class PackageHost(Protocol):
    """What the app store needs from its node (the node's blocking calls, made awaitable)."""

    async def install(self, package_id: PackageId, zip_bytes: bytes) -> None:
        """Unpack the zip as `package_id` and (re)start its processes; raise with the reason on refusal."""
        ...

    async def kill(self, process_id: ProcessId) -> bool:
        """KillProcess with revoke; False when there was no such process."""
        ...


class AppStore(ModuleBase):
    """The emulated `main:app-store:sys`; `install` is the node's package installer."""

    process_id = APP_STORE
    public = False

    def __init__(self, host: PackageHost) -> None:
        super().__init__()
        self._host = host

    def downloads_dir(self, package_id: PackageId) -> Path:
        return self.node.home / "vfs" / DOWNLOADS_DRIVE / str(package_id)

    async def handle(self, message: KernelMessage) -> None:
        request = request_of(message)
        if request is None:
            return
        if not self.is_local(message):
            self.log(1, f"app-store: error handling message: request from non-local node {message.source}")
            return
        try:
            parsed = parse_app_store_request(request.body)
        except ValueError as error:
            self.log(1, f"app-store: error handling message from {message.source}: {error}")
            return
        blob = None
        if isinstance(parsed, NewPackageRequest):
            reply = new_package_reply(await self._new_package(parsed, message))
        elif isinstance(parsed, InstallPackageRequest):
            reply = install_reply(await self._install_package(parsed))
        elif isinstance(parsed, UninstallRequest):
            reply = uninstall_reply(await self._uninstall(parsed.package_id))
        elif isinstance(parsed, GetApiRequest):
            answer, blob = await asyncio.to_thread(self._api_of, parsed.package_id)
            reply = get_api_reply(answer)
        else:
            reply = apis_reply(await asyncio.to_thread(self._installed_apis))
        self.respond(message, reply, blob)

    async def _new_package(self, request: NewPackageRequest, message: KernelMessage) -> NewPackageResponse:
        blob = message.lazy_load_blob
        if blob is None:
            return NewPackageResponse.NO_BLOB
        package_id = _package_id(request.package_id)
        try:
            archive = PackageZip(blob.bytes, f"NewPackage {package_id}")
            manifest = archive.read("manifest.json") if archive.has_file("manifest.json") else None
        except PackageZipError as error:
            self.log(0, f"app-store: NewPackage {package_id} refused: {error}")
            return NewPackageResponse.INSTALL_FAILED
        version_hash = sha256_bytes(blob.bytes)
        directory = self.downloads_dir(package_id)
        try:
            await asyncio.to_thread(atomic_write, directory / f"{version_hash}.zip", blob.bytes)
            if manifest is not None:
                await asyncio.to_thread(atomic_write, directory / f"{version_hash}.json", manifest)
        except OSError as error:
            self.log(0, f"app-store: NewPackage {package_id}: could not store the zip: {error}")
            return NewPackageResponse.INSTALL_FAILED
        self.log(1, f"app-store: added {package_id} version {version_hash}")
        return NewPackageResponse.SUCCESS

    async def _install_package(self, request: InstallPackageRequest) -> InstallResponse:
        package_id = _package_id(request.package_id)
        zip_path = self.downloads_dir(package_id) / f"{request.version_hash}.zip"
        try:
            zip_bytes = await asyncio.to_thread(zip_path.read_bytes)
        except OSError:
            self.log(
                0,
                f"app-store: error installing package: no zip with hash {request.version_hash} for "
                f"{package_id} (send NewPackage with the zip first; the hash is the sha256 of the zip)",
            )
            return InstallResponse.FAILURE
        if request.metadata is None:
            self.log(1, f"app-store: Install {package_id} without metadata: the emulator has no chain to ask")
        try:
            await self._host.install(package_id, zip_bytes)
        except Exception as error:
            self.log(0, f"app-store: error installing package: {error}")
            return InstallResponse.FAILURE
        self.log(0, f"app-store: successfully installed {package_id}")
        return InstallResponse.SUCCESS

    def _drive(self, package_id: PackageIdJson) -> Path:
        return package_drive_dir(self.node.home, _package_id(package_id))

    async def _uninstall(self, package_id: PackageIdJson) -> UninstallResponse:
        drive = self._drive(package_id)
        try:
            manifest = parse_manifest(await asyncio.to_thread((drive / "manifest.json").read_bytes))
        except (OSError, ManifestError) as error:
            self.log(0, f"app-store: error uninstalling package {package_id}: {error}")
            return UninstallResponse.FAILURE
        for entry in manifest:
            await self._host.kill(
                ProcessId(entry.process_name, package_id.package_name, package_id.publisher_node)
            )
        await asyncio.to_thread(shutil.rmtree, drive, True)
        self.log(0, f"app-store: successfully uninstalled package {package_id}")
        return UninstallResponse.SUCCESS

    def _api_of(self, package_id: PackageIdJson) -> tuple[GetApiResponse, LazyLoadBlob | None]:
        try:
            api = (self._drive(package_id) / "api.zip").read_bytes()
        except OSError:
            return GetApiResponse.FAILURE, None
        return GetApiResponse.SUCCESS, LazyLoadBlob("application/json", api)

    def _installed_apis(self) -> list[PackageIdJson]:
        found = []
        for drive in sorted((self.node.home / "vfs").glob("*/pkg/api.zip")):
            name, _, publisher = drive.parent.parent.name.partition(":")
            if name and publisher:
                found.append(PackageIdJson(package_name=name, publisher_node=publisher))
        return found
