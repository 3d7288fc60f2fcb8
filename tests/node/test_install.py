"""Install like the app store (runtime-contract.md §2.6, §2.7): parse, unpack, init, grant, run, refuse."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import textwrap
import urllib.request
import zipfile
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
    (project / "api").mkdir()
    (project / "api" / "hello.wit").write_text("interface hello {}\n")
    installed = node.install(project, mode="native")
    assert str(installed.package_id) == "hello:test.os"
    started(node, "hello")
    assert op(node, "hello:hello:test.os", {"op": "count"}) == 1
    pkg = node.home / "vfs" / "hello:test.os" / "pkg"
    assert (pkg / "hello.wasm").read_bytes().startswith(b"#hyperpy-native")
    # The same pkg/ as `hyperpy build` writes (hyperpy.package.pkg_contents), api.zip included, so
    # the app store's GetApi answers for a natively installed package too.
    with zipfile.ZipFile(pkg / "api.zip") as api:
        assert api.read("hello.wit") == b"interface hello {}\n"


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
    """The `http` template app with no capabilities in its config (and not public)."""
    project = create_project("demo-http", "http", parent=parent)
    config = project / "pyproject.toml"
    text = re.sub(r"^(request|grant)_capabilities = .*\n", "", config.read_text(), flags=re.M)
    assert "capabilities" not in text.split("[tool.ruff]")[0] and "public" not in text
    config.write_text(text)
    return project


NAPPER = "napper:napper:test.os"
NAPPER_APP = """\
import asyncio

from hyperpy import app, http


@app(name="napper", ui="ui", authenticated=False, ui_authenticated=False)
class Napper:
    naps: int = 0

    @http
    async def nap(self, seconds: float) -> str:
        await asyncio.sleep(seconds)
        self.naps += 1
        return f"rested {self.naps}"
"""


def _napper_project(parent: Path) -> Path:
    """A non-public framework app that lists no capabilities, serving HTTP, sleeping on the timer and
    serving the page in its `ui` folder. Written the same way every run, so its component is built once
    per machine (the shared build cache is keyed by content)."""
    project = parent / "napper"
    (project / "ui" / "assets").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "napper"\nversion = "0.1.0"\n\n[tool.hyperpy]\npublisher = "test.os"\n'
    )
    (project / "napper.py").write_text(NAPPER_APP)
    (project / "ui" / "index.html").write_text("<title>napper</title>")
    (project / "ui" / "assets" / "app.js").write_text("console.log('napper')")
    return project


def _post_json(url: str, value: object) -> object:
    request = urllib.request.Request(
        url, data=json.dumps(value).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=20) as answer:
        return json.loads(answer.read())


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=20) as answer:
        return bytes(answer.read())


def test_a_non_public_app_listing_no_capabilities_serves_http_sleeps_and_its_ui_in_both_modes(
    make_node: Callable[..., Node], mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The planner requests *and grants* what the app needs (http-server must reach it with Bind acks
    and requests, timer with the sleep's answer: runtime-contract §1.5) and copies its UI folder into
    pkg/ui/; `hyperpy build` and a native install of the unbuilt project do the same."""
    project = _napper_project(tmp_path)
    http = HttpServerModule(port=0)
    node = make_node(modules=[http, TimerModule(), VfsModule()])
    if mode == "component":
        from hyperpy.build import build_project

        monkeypatch.setenv("HYPERPY_CACHE_DIR", str(cache_root().parent))
        source = build_project(project, progress=False).zip_path
    else:
        source = project
    node.install(source, mode=mode)
    drive = node.home / "vfs" / "napper:test.os" / "pkg"
    (entry,) = json.loads((drive / "manifest.json").read_text())
    assert entry["public"] is False
    assert entry["request_capabilities"] == ["http-server:distro:sys", "timer:distro:sys", "vfs:distro:sys"]
    assert entry["grant_capabilities"] == ["http-server:distro:sys", "timer:distro:sys"]
    assert (drive / "ui" / "index.html").read_text() == "<title>napper</title>"
    info = node.process(NAPPER)
    assert info is not None and info.public is False and info.mode == mode
    node.terminal.wait_for("napper: ready (bound:", timeout=120)  # http-server's Bind acks got back
    base = f"{http.url}/{NAPPER}"
    assert _post_json(f"{base}/api", {"Nap": 0.05}) == "rested 1"  # timer's answer got back
    assert _post_json(f"{base}/api/nap", {"Nap": 0.0}) == "rested 2"
    assert _get(f"{base}/") == b"<title>napper</title>"
    assert _get(f"{base}/assets/app.js") == b"console.log('napper')"
    # Without the timer grant the sleep would still end, late, by the kernel's timeout; the refused
    # answer is what shows it.
    printed = node.terminal.text(all=True)
    assert "doesn't have capability" not in printed and "did not answer in time" not in printed


def test_a_native_install_of_an_app_whose_ui_folder_is_missing_is_refused(node: Node, tmp_path: Path) -> None:
    project = _napper_project(tmp_path)
    shutil.rmtree(project / "ui")
    with pytest.raises(InstallError) as caught:
        node.install(project, mode="native")
    message = str(caught.value)
    assert "process 'napper': @app(ui='ui') serves the package folder pkg/ui/" in message
    assert f"{project / 'ui'}, but that folder does not exist" in message and "[tool.hyperpy]" in message
    assert node.process(NAPPER) is None


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
