"""Install like the app store (runtime-contract.md §2.6, §2.7): parse, unpack, init, grant, run, refuse."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import textwrap
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from hyperpy.node import InstallError, Node
from hyperpy.node.modules.http_server import HttpServerModule
from hyperpy.node.modules.timer import TimerModule
from hyperpy.node.modules.vfs import VfsModule
from hyperpy.package.archive import zip_directory_bytes
from hyperpy.templates.scaffold import create_project

from .components import PROCESSES, cache_root
from .helpers import Packages, Proc, op, pid, send, started


def _drive(node: Node) -> Path:
    return node.home / "vfs" / "probes:test.os" / "pkg"


def test_install_unpacks_the_package_drive_and_reports_the_zip_hash(node: Node, packages: Packages) -> None:
    options = packages.write([Proc("a")])
    pkg = options.pop("source")
    (pkg / "api.zip").write_bytes(_api_zip(pkg.parent / "api-src"))
    expected_hash = hashlib.sha256(zip_directory_bytes(pkg)).hexdigest()
    installed = node.install(pkg, **options)
    assert installed.version_hash == expected_hash
    assert [str(p) for p in installed.processes] == [pid("a")]
    drive = _drive(node)
    assert json.loads((drive / "manifest.json").read_text())[0]["process_name"] == "a"
    assert (drive / "probes:test.os.zip").read_bytes() == zip_directory_bytes(pkg)
    assert (drive / "api" / "probes.wit").read_text() == "interface probes {}\n"
    assert op(node, "a", {"op": "count"}) == 1


def _api_zip(source: Path) -> bytes:
    source.mkdir()
    (source / "probes.wit").write_text("interface probes {}\n")
    return zip_directory_bytes(source)


def test_install_from_a_zip_named_after_the_package(node: Node, packages: Packages, tmp_path: Path) -> None:
    options = packages.write([Proc("a")])
    data = zip_directory_bytes(options.pop("source"))
    options.pop("package_id")
    zip_path = tmp_path / "probes:test.os.zip"
    zip_path.write_bytes(data)
    installed = node.install(zip_path, **options)
    assert str(installed.package_id) == "probes:test.os"
    assert installed.version_hash == hashlib.sha256(data).hexdigest()
    assert op(node, "a", {"op": "count"}) == 1


def test_reinstall_replaces_the_running_version(node: Node, packages: Packages) -> None:
    packages.install(node, [Proc("a")])
    assert op(node, "a", {"op": "count"}) == 1
    assert op(node, "a", {"op": "count"}) == 2
    mark = node.terminal.mark()
    packages.install(node, [Proc("a", on_exit="None")])
    started(node, "a", since=mark)
    assert op(node, "a", {"op": "count"}) == 1  # a fresh instance of the new version
    info = node.process(pid("a"))
    assert info is not None and info.on_exit == "None"


def test_a_bad_manifest_is_refused_naming_the_field_and_the_node_is_unchanged(
    node: Node, packages: Packages
) -> None:
    packages.install(node, [Proc("a")])
    before = sorted(p.name for p in _drive(node).iterdir())
    entry = Proc("a").manifest_entry()
    del entry["public"]
    with pytest.raises(InstallError, match="public"):
        packages.install(node, [], manifest=[entry], extra_modules=("probe",))
    assert sorted(p.name for p in _drive(node).iterdir()) == before
    assert [str(p.id) for p in node.processes()] == [pid("a")]
    assert op(node, "a", {"op": "count"}) == 1  # still the same running instance


def test_a_missing_wasm_file_is_refused_in_component_mode(node: Node, packages: Packages) -> None:
    options = packages.write([Proc("a")])
    pkg = options.pop("source")
    options["mode"] = "component"
    options.pop("native_modules", None)
    (pkg / "probe.wasm").unlink(missing_ok=True)
    with pytest.raises(InstallError, match=r"probe\.wasm"):
        node.install(pkg, **options)
    assert node.processes() == []


def test_native_mode_needs_a_module_for_every_process(node: Node, packages: Packages) -> None:
    options = packages.write([Proc("a")])
    with pytest.raises(InstallError, match="native_modules"):
        node.install(options["source"], mode="native", package_id="probes:test.os")


def test_unparseable_package_id_and_unknown_mode_are_refused(node: Node, packages: Packages) -> None:
    options = packages.write([Proc("a")])
    with pytest.raises(InstallError, match="package:publisher"):
        node.install(
            options["source"],
            mode=options["mode"],
            package_id="no-publisher",
            native_modules=options.get("native_modules"),
        )
    with pytest.raises(InstallError, match="unknown install mode"):
        node.install(options["source"], mode="emulated")


def test_an_unbuilt_project_installs_natively_from_its_config(node: Node, tmp_path: Path) -> None:
    project = tmp_path / "hello"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        textwrap.dedent("""
        [project]
        name = "hello"
        version = "0.1.0"

        [tool.hyperpy]
        publisher = "test.os"

        [tool.hyperpy.processes.hello]
        module = "hello_process"
        public = true
        request_capabilities = ["http-server:distro:sys"]
    """)
    )
    shutil.copyfile(PROCESSES / "probe.py", project / "hello_process.py")
    installed = node.install(project, mode="native")
    assert str(installed.package_id) == "hello:test.os"
    started(node, "hello")
    assert op(node, "hello:hello:test.os", {"op": "count"}) == 1
    marker = (node.home / "vfs" / "hello:test.os" / "pkg" / "hello.wasm").read_bytes()
    assert marker.startswith(b"#hyperpy-native")


def test_processes_of_a_package_start_after_all_are_initialized_and_granted(
    node: Node, packages: Packages
) -> None:
    """b grants a messaging to itself in the manifest; a can use it as soon as it runs."""
    packages.install(node, [Proc("a"), Proc("b", public=False, grants=[pid("a")])])
    started(node, "b")
    assert op(
        node, "a", {"op": "await", "target": "fake.dev@b:probes:test.os", "body": {"op": "reply", "body": 2}}
    ) == {
        "response": 2,
        "source": "fake.dev@b:probes:test.os",
    }
    send(node, "a", {"op": "count"})


HTTP_APP = "demo-http:demo-http:template.os"


def _http_app_without_listed_capabilities(parent: Path) -> Path:
    """The `http` template app with no capabilities in its config: it is public (so HTTP reaches it),
    but only inference gives it what it needs to bind paths and answer (http-server messaging).
    Named and written as the template test renders it, so the component build is reused from the cache.
    """
    project = create_project("demo-http", "http", parent=parent)
    config = project / "pyproject.toml"
    text = re.sub(r"^(request|grant)_capabilities = .*\n", "", config.read_text(), flags=re.M)
    text = text.replace(
        "[tool.hyperpy.processes.demo-http]\n", "[tool.hyperpy.processes.demo-http]\npublic = true\n"
    )
    assert "capabilities" not in text.split("[tool.ruff]")[0] and "public = true" in text
    config.write_text(text)
    return project


def _post_json(url: str, value: object) -> object:
    request = urllib.request.Request(
        url, data=json.dumps(value).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=20) as answer:
        return json.loads(answer.read())


def test_a_framework_app_gets_the_capabilities_the_build_infers_in_both_modes(
    make_node: Callable[..., Node], mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Native install of an unbuilt project plans the same manifest as `hyperpy build` (inferred
    http-server and timer), so the app answers HTTP through the node's http-server in both modes."""
    project = _http_app_without_listed_capabilities(tmp_path)
    http = HttpServerModule(port=0)
    node = make_node(modules=[http, TimerModule(), VfsModule()])
    if mode == "component":
        from hyperpy.build import build_project

        monkeypatch.setenv("HYPERPY_CACHE_DIR", str(cache_root().parent))
        source = build_project(project, progress=False).zip_path
    else:
        source = project
    node.install(source, mode=mode)
    manifest = json.loads((node.home / "vfs" / "demo-http:template.os" / "pkg" / "manifest.json").read_text())
    assert set(manifest[0]["request_capabilities"]) == {"http-server:distro:sys", "timer:distro:sys"}
    node.terminal.wait_for("demo-http: ready (bound:", timeout=120)
    base = f"{http.url}/{HTTP_APP}"
    assert _post_json(f"{base}/api", {"Increment": 4}) == 4
    with urllib.request.urlopen(f"{base}/api/count", timeout=20) as answer:
        assert json.loads(answer.read()) == 4


def test_a_native_install_is_refused_when_the_app_cannot_be_read(node: Node, tmp_path: Path) -> None:
    """Inference imports the app; an app that fails `hyperpy build` is refused before anything changes."""
    project = _http_app_without_listed_capabilities(tmp_path)
    module = project / "demo_http.py"
    module.write_text(
        module.read_text().replace("def get_count(self) -> int:", "def get_count(self, x) -> int:")
    )
    with pytest.raises(InstallError, match=r"process 'demo-http'.*get_count"):
        node.install(project, mode="native")
    module.unlink()
    with pytest.raises(InstallError, match=r"module 'demo_http' not found"):
        node.install(project, mode="native")
    assert node.process(HTTP_APP) is None
