"""kit's flows against a real local node: start-package (NewPackage + Install to main:app-store:sys) and
inject-message over `/rpc:distro:sys/message`, with the node's real http-server, kernel and components."""

from __future__ import annotations

import io
import json
import shutil
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from hyperpy.package.archive import sha256_bytes
from hyperpy.package.control_client import (
    ControlError,
    PackageUpload,
    inject,
    post_rpc,
    prepare_upload,
    start_package,
)
from hyperpy.package.control_wire import APP_STORE_PROCESS, make_rpc_message, new_package_body

ECHO_PROJECT = Path(__file__).parent / "projects" / "echo"
ECHO = "echo:echo:template.os"
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def built_echo(tmp_path_factory: pytest.TempPathFactory, hyperpy_builds) -> Path:
    """A built copy of the echo project (component build cached in HYPERPY_CACHE_DIR across sessions)."""
    project = tmp_path_factory.mktemp("kit-flow") / "echo"
    shutil.copytree(ECHO_PROJECT, project)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HYPERPY_CACHE_DIR", str(REPO_ROOT / ".hyperpy-cache"))
        hyperpy_builds.zip_for(project)
    return project


def test_start_package_then_inject_like_kit(hyperpy_node, built_echo: Path) -> None:
    upload = prepare_upload(built_echo)

    start_package(hyperpy_node.url, upload)

    info = hyperpy_node.process(ECHO)
    assert info is not None and info.mode == "component" and info.status == "running"
    downloads = hyperpy_node.node.home / "vfs" / "app-store:sys" / "downloads" / "echo:template.os"
    assert (downloads / f"{upload.version_hash}.zip").read_bytes() == upload.zip_bytes
    result = inject(hyperpy_node.url, ECHO, '{"from":"kit"}', blob=b"\x00blob")
    assert (result.body_text(), result.blob()) == ('{"from":"kit"}', b"\x00blob")


def test_reinstalling_through_the_app_store_replaces_the_running_version(
    hyperpy_node, built_echo: Path
) -> None:
    upload = prepare_upload(built_echo)
    start_package(hyperpy_node.url, upload)
    hyperpy_node.request(ECHO, '"remember"')

    start_package(hyperpy_node.url, upload)

    assert hyperpy_node.request(ECHO, "after").body == b"after"
    assert hyperpy_node.get_state(ECHO) == b"remembered"


def test_install_of_a_hash_never_added_fails_like_the_app_store(hyperpy_node, built_echo: Path) -> None:
    upload = prepare_upload(built_echo)
    wrong = PackageUpload(upload.zip_path, upload.zip_bytes, "0" * 64, upload.metadata)
    new_package = make_rpc_message(
        APP_STORE_PROCESS, new_package_body("echo", "template.os"), data=upload.zip_bytes
    )
    post_rpc(hyperpy_node.url, new_package)

    with pytest.raises(ControlError, match="'Failure'"):
        start_package(hyperpy_node.url, wrong)
    assert hyperpy_node.process(ECHO) is None


def test_a_package_the_node_refuses_is_a_failure_and_changes_nothing(hyperpy_node) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", json.dumps([{"process_name": "echo"}]))
    broken = buffer.getvalue()
    add = make_rpc_message(APP_STORE_PROCESS, new_package_body("echo", "template.os"), data=broken)
    assert json.loads(post_rpc(hyperpy_node.url, add).reply.body_bytes()) == {"NewPackageResponse": "Success"}
    install = make_rpc_message(
        APP_STORE_PROCESS,
        json.dumps(
            {
                "Install": {
                    "package_id": {"package_name": "echo", "publisher_node": "template.os"},
                    "version_hash": sha256_bytes(broken),
                    "metadata": None,
                }
            }
        ),
    )

    reply = post_rpc(hyperpy_node.url, install).reply

    assert json.loads(reply.body_bytes()) == {"InstallResponse": "Failure"}
    assert hyperpy_node.processes() == []
    hyperpy_node.wait_for_output("error installing package")


def test_fire_and_forget_and_timeout_through_the_real_endpoint(hyperpy_node, built_echo: Path) -> None:
    hyperpy_node.install(built_echo)
    mark = hyperpy_node.mark()

    sent = inject(hyperpy_node.url, ECHO, "no answer needed", expects_response=None)

    assert sent.status == 200 and sent.reply is None
    hyperpy_node.wait_for_output("echo: got no answer needed", since=mark, timeout=20)
    crash = urllib.request.Request(
        hyperpy_node.url + "/rpc:distro:sys/message",
        data=json.dumps({"process": ECHO, "body": '"crash"', "expects_response": 15}).encode(),
        headers={"X-Hyperware-Http-Server-Timeout": "1", "Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as timed_out:
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(crash, timeout=30)
    assert timed_out.value.code == 408


def test_rpc_to_a_process_that_does_not_exist_times_out_with_408(hyperpy_node) -> None:
    request = urllib.request.Request(
        hyperpy_node.url + "/rpc:distro:sys/message",
        data=json.dumps({"process": "nobody:home:sys", "body": "x", "expects_response": 15}).encode(),
        headers={"X-Hyperware-Http-Server-Timeout": "1", "Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as timed_out:
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=30)
    assert timed_out.value.code == 408


def test_get_api_apis_and_uninstall_through_the_app_store(hyperpy_node, built_echo: Path) -> None:
    start_package(hyperpy_node.url, prepare_upload(built_echo))
    package_id = {"package_name": "echo", "publisher_node": "template.os"}

    api = inject(hyperpy_node.url, APP_STORE_PROCESS, json.dumps({"GetApi": package_id}))
    apis = inject(hyperpy_node.url, APP_STORE_PROCESS, '"Apis"')
    removed = inject(hyperpy_node.url, APP_STORE_PROCESS, json.dumps({"Uninstall": package_id}))

    assert json.loads(api.body_text()) == {"GetApiResponse": "Success"}
    assert api.blob() == (built_echo / "pkg" / "api.zip").read_bytes()
    assert json.loads(apis.body_text()) == {"ApisResponse": {"apis": [package_id]}}
    assert json.loads(removed.body_text()) == {"UninstallResponse": "Success"}
    assert hyperpy_node.process(ECHO) is None


def test_inject_with_node_reaches_a_process_on_another_node(hyperpy_nodes) -> None:
    a, b = hyperpy_nodes("fake.dev", "fake2.dev")
    b.install(ECHO_PROJECT, mode="native")

    result = inject(a.url, ECHO, "across the network", node="fake2.dev")

    assert result.body_text() == "across the network"
