"""The pytest plugin, tested as a user meets it: a raw project, a test file, a pytest run (pytester).

Each test writes a small kit-style echo project and a user's test module into a fresh directory and
runs pytest there in a subprocess, with the plugin loaded through its `pytest11` entry point. Native
mode keeps most of these fast; the component-mode runs share the on-disk build and compile caches
(`HYPERPY_CACHE_DIR`, default `.hyperpy-cache/` at the repository root), so the echo component is
built once per machine.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

ECHO_PROJECT = REPO_ROOT / "tests" / "control" / "projects" / "echo"

ECHO_ID = "echo:echo:template.os"


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A directory with the echo project under `echo/`; tests add a test module beside it."""
    if not os.environ.get("HYPERPY_CACHE_DIR"):
        monkeypatch.setenv("HYPERPY_CACHE_DIR", str(REPO_ROOT / ".hyperpy-cache"))
    echo = pytester.mkdir("echo")
    for name in ("echo.py", "pyproject.toml"):
        (echo / name).write_text((ECHO_PROJECT / name).read_text())
    return pytester


def user_tests(pytester: pytest.Pytester, source: str) -> None:
    header = (
        "from pathlib import Path\nimport pytest\n"
        f"PROJECT = Path(__file__).parent / 'echo'\nECHO = {ECHO_ID!r}\n"
    )
    pytester.makepyfile(test_user_app=header + source)


def test_a_native_node_test_installs_requests_and_reads_output(project: pytest.Pytester) -> None:
    user_tests(
        project,
        """
@pytest.mark.hyperpy_modes("native")
def test_echo(hyperpy_node, hyperpy_mode):
    assert hyperpy_mode == "native"
    installed = hyperpy_node.install(PROJECT)
    assert installed.mode == "native"
    assert hyperpy_node.request_json(ECHO, {"hi": 1}) == {"hi": 1}
    reply = hyperpy_node.request(ECHO, b"raw", blob=b"payload")
    assert (reply.body, reply.blob.bytes) == (b"raw", b"payload")
    hyperpy_node.wait_for_output('echo: got {"hi": 1}')
    assert "echo-raw" not in hyperpy_node.output()
    assert "echo: ready" in hyperpy_node.output()
    assert [str(p.id) for p in hyperpy_node.processes()] == [ECHO]
""",
    )

    result = project.runpytest_subprocess("-p", "no:cacheprovider", "-v")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*test_echo?native?*PASSED*"])


def test_the_modes_marker_runs_a_test_in_both_modes(project: pytest.Pytester) -> None:
    user_tests(
        project,
        """
pytestmark = pytest.mark.hyperpy_modes("component", "native")

def test_echo(hyperpy_node, hyperpy_mode):
    installed = hyperpy_node.install(PROJECT)
    assert installed.mode == hyperpy_mode
    assert hyperpy_node.process(ECHO).mode == hyperpy_mode
    assert hyperpy_node.request_json(ECHO, [1, 2]) == [1, 2]
""",
    )

    result = project.runpytest_subprocess("-p", "no:cacheprovider", "-v")

    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_echo?component?*PASSED*", "*test_echo?native?*PASSED*"])


def test_the_mode_option_keeps_one_mode(project: pytest.Pytester) -> None:
    user_tests(
        project,
        """
pytestmark = pytest.mark.hyperpy_modes("component", "native")

def test_mode(hyperpy_mode):
    assert hyperpy_mode == "native"
""",
    )

    result = project.runpytest_subprocess("-p", "no:cacheprovider", "--hyperpy-mode", "native")

    result.assert_outcomes(passed=1)


def test_an_unmarked_test_runs_once_in_component_mode(project: pytest.Pytester) -> None:
    user_tests(project, "def test_mode(hyperpy_mode):\n    assert hyperpy_mode == 'component'\n")

    result = project.runpytest_subprocess("-p", "no:cacheprovider", "-v")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*::test_mode PASSED*"])


def test_restart_keeps_state_and_brings_the_process_back(project: pytest.Pytester) -> None:
    user_tests(
        project,
        """
@pytest.mark.hyperpy_modes("native")
def test_restart(hyperpy_node):
    hyperpy_node.install(PROJECT)
    hyperpy_node.request(ECHO, '"remember"')
    hyperpy_node.restart()
    assert hyperpy_node.get_state(ECHO) == b"remembered"
    assert hyperpy_node.request(ECHO, "again").body == b"again"
""",
    )

    project.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_a_failing_test_shows_the_nodes_output(project: pytest.Pytester) -> None:
    user_tests(
        project,
        """
@pytest.mark.hyperpy_modes("native")
def test_crash(hyperpy_node):
    hyperpy_node.install(PROJECT)
    hyperpy_node.request(ECHO, '"crash"', timeout=1)
""",
    )

    result = project.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*NoResponse*did not respond*", "*hyperpy node fake.dev output*", "*echo was asked to crash*"]
    )


def test_several_nodes_message_each_other_and_go_offline(project: pytest.Pytester) -> None:
    user_tests(
        project,
        """
from hyperpy.node import InjectOffline

@pytest.mark.hyperpy_modes("native")
def test_two_nodes(hyperpy_nodes):
    a, b = hyperpy_nodes("fake.dev", "fake2.dev")
    b.install(PROJECT)
    assert a.request("fake2.dev@" + ECHO, "across").body == b"across"
    hyperpy_nodes.set_offline("fake2.dev")
    with pytest.raises(InjectOffline):
        a.request("fake2.dev@" + ECHO, "lost")
    hyperpy_nodes.set_offline("fake2.dev", False)
    assert a.request("fake2.dev@" + ECHO, "back").body == b"back"
""",
    )

    project.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_the_node_url_serves_kits_rpc_endpoint(project: pytest.Pytester) -> None:
    user_tests(
        project,
        """
from hyperpy.package.control_client import inject

@pytest.mark.hyperpy_modes("native")
def test_rpc(hyperpy_node):
    hyperpy_node.install(PROJECT)
    result = inject(hyperpy_node.url, ECHO, "via rpc", blob=b"b")
    assert (result.body_text(), result.blob()) == ("via rpc", b"b")
""",
    )

    project.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
