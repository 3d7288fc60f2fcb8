"""Capability inference against a manifest the user wrote: the build uses the file as written (never
rewrites it) and warns, naming the manifest file, the process and what is missing, when a framework
app needs a capability or networking the manifest does not request."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

from click.testing import CliRunner

from hyperpy.cli import main

# The Quick Start chat (a framework app): it needs timer:distro:sys (every app's executor does) and
# networking (it has @remote handlers). Its Python sources are those of the control tests' copy, so
# the component they built is reused from the shared cache.
CHAT_APP = Path(__file__).resolve().parents[1] / "control" / "projects" / "my_chat_app"

PYPROJECT = """\
[project]
name = "my-chat-app"
version = "0.1.0"

[tool.hyperpy]
publisher = "template.os"
"""

# Hand-written (note the layout and key order): no timer:distro:sys, no networking.
MANIFEST = b"""[
  {
    "process_name": "my-chat-app",
    "process_wasm_path": "/my-chat-app.wasm",
    "on_exit": "Restart",
    "request_networking": false,
    "request_capabilities": ["http-server:distro:sys"],
    "grant_capabilities": [],
    "public": true
  }
]
"""


def test_missing_capabilities_are_named_and_the_manifest_is_left_as_written(tmp_path: Path) -> None:
    project = tmp_path / "my-chat-app"
    project.mkdir()
    for source in ("my_chat_app.py", "send.py"):
        shutil.copy(CHAT_APP / source, project)
    (project / "pyproject.toml").write_text(PYPROJECT)
    manifest = project / "pkg" / "manifest.json"
    manifest.parent.mkdir()
    manifest.write_bytes(MANIFEST)

    result = CliRunner().invoke(main, ["build", str(project)])

    assert result.exit_code == 0, result.output
    warnings = [" ".join(w.split()) for w in re.split(r"\n(?=warning:)", result.output) if "warning:" in w]
    capability = [w for w in warnings if "timer:distro:sys" in w]
    assert len(capability) == 1, result.output
    assert f"{manifest}: process 'my-chat-app' uses timer:distro:sys" in capability[0]
    assert "http-server:distro:sys" not in capability[0]  # what the manifest gives is not named
    networking = [w for w in warnings if "request_networking false" in w]
    assert len(networking) == 1, result.output
    assert f"{manifest}: process 'my-chat-app'" in networking[0]
    # Used as written, byte for byte, in pkg/ and in the package.
    assert manifest.read_bytes() == MANIFEST
    with zipfile.ZipFile(project / "target" / "my-chat-app:template.os.zip") as package:
        assert package.read("manifest.json") == MANIFEST
