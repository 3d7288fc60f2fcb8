"""The node's terminal: command lines, the distro scripts' output and their answers to bad input.

Each line goes in as Hyperdrive's runtime terminal sends it (a Request from terminal:terminal:sys to
itself); the script runs as a spawned `<random>:terminal:sys` process with its scripts.json
capabilities and prints its result. Expected texts are Hyperdrive's (packages/terminal/*/src/lib.rs);
process printouts carry the `package:publisher: ` prefix Hyperdrive's print_to_terminal adds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hyperpy.node import Emulator, Node
from hyperpy.node.terminal import Printout

PREFIX = "terminal:sys: "
BOLD_USAGE = "\x1b[1mUsage:\x1b[0m"


def _is_script_output(printout: Printout) -> bool:
    source = printout.source
    from_script = source.package_name == "terminal" and source.process_name.isdigit()
    from_terminal = source.process_name == "terminal" and source.package_name == "terminal"
    return printout.verbosity == 0 and (from_script or from_terminal)


def run_line(node: Node, line: str, count: int = 1, timeout: float = 20) -> list[str]:
    """Type `line`; return the first `count` level-0 printouts of the terminal and its scripts."""
    mark = node.terminal.mark()
    node.terminal_command(line)
    texts = []
    for _ in range(count):
        printout = node.terminal.wait_for(_is_script_output, timeout=timeout, since=mark)
        mark = printout.seq
        texts.append(printout.text)
    return texts


def script_text(node: Node, line: str) -> str:
    (text,) = run_line(node, line)
    assert text.startswith(PREFIX), text
    return text.removeprefix(PREFIX)


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    with Node("fake.dev", home=tmp_path_factory.mktemp("terminal"), http_port=0) as booted:
        yield booted


def test_echo_prints_the_argument_string_as_it_is(node: Node) -> None:
    assert script_text(node, "echo Hello   World!") == "Hello   World!"
    assert script_text(node, "echo:terminal:sys full id works") == "full id works"


def test_unknown_script_and_empty_lines_never_stop_the_node(node: Node) -> None:
    assert run_line(node, "nope some args") == [
        "error calling script: 'nope' not found, either as an alias or process ID"
    ]
    assert run_line(node, "nothing:here:sys x") == ["error calling script: no scripts manifest in package"]
    assert run_line(node, "absent:terminal:sys x") == [
        "error calling script: script not in scripts.json file"
    ]
    node.terminal_command("")
    assert script_text(node, "echo still alive") == "still alive"


def test_m_usage_and_bad_input(node: Node) -> None:
    usage = f"{BOLD_USAGE} m <target> <body> [-a <await_time>]"
    assert script_text(node, "m") == f"Send a request to a process.\n{usage}"
    assert script_text(node, "m our@echo:echo:sys") == f"Failed to parse args.\n{usage}"
    assert script_text(node, "m our@a:b:c body -a notanumber") == f"Failed to parse args.\n{usage}"
    assert script_text(node, "m our@a:b:c body --bogus") == f"Failed to parse args.\n{usage}"
    assert script_text(node, "m not-an-address '{}'") == f'Invalid address: "not-an-address"\n{usage}'


def test_m_awaits_and_prints_the_response_body(node: Node) -> None:
    texts = run_line(node, """m our@net:distro:sys '{"not": "a net action"}' -a 1""", count=2)
    assert texts == [
        f"{PREFIX}Awaiting response for 1s",
        f"{PREFIX}Target did not send response in time, try increasing the await time",
    ]


VFS_METADATA = """'{"path": "/terminal:sys/pkg/scripts.json", "action": "Metadata"}'"""


def test_m_awaits_a_real_answer(node: Node) -> None:
    texts = run_line(node, f"m our@vfs:distro:sys {VFS_METADATA} --await 5", count=2)
    assert texts[0] == f"{PREFIX}Awaiting response for 5s"
    answer = json.loads(texts[1].removeprefix(PREFIX))
    assert answer["Metadata"]["file_type"] == "File"


def test_m_passes_bad_json_on_and_prints_the_targets_answer(node: Node) -> None:
    texts = run_line(node, "m our@vfs:distro:sys '{not json' -a 5", count=2)
    assert texts == [f"{PREFIX}Awaiting response for 5s", f'{PREFIX}{{"Err":"MalformedRequest"}}']


def test_m_without_await_prints_an_empty_line(node: Node) -> None:
    assert script_text(node, f"m fake.dev@vfs:distro:sys {VFS_METADATA}") == ""


def test_hi_usage_offline_and_a_reply_from_another_node(tmp_path: Path) -> None:
    usage = f"{BOLD_USAGE} hi <node_id> <message>"
    with Emulator(tmp_path) as emulator:
        first = emulator.add_node("fake.dev", http_port=0)
        second = emulator.add_node("fake2.dev", http_port=0)
        assert script_text(first, "hi") == f"Send a text message to another node's terminal.\n{usage}"
        assert script_text(first, "hi fake2.dev") == f"Not enough arguments given.\n{usage}"
        assert script_text(first, "hi nobody.dev hello") == "nobody.dev is offline or does not exist"
        mark = second.terminal.mark()
        assert script_text(first, "hi fake2.dev hello there") == "response from fake2.dev: ack"
        second.terminal.wait_for("\x1b[3;32mfake.dev: hello there\x1b[0m", since=mark)
        peers = script_text(first, "peers")
        assert peers.startswith("identities of current connected peers:\nfake2.dev:\n    networking key: 0x")
        assert 'routing: Direct { ip: "127.0.0.1"' in peers


def test_top_lists_processes_and_one_process(node: Node) -> None:
    everything = script_text(node, "top")
    assert "\r\nkernel:distro:sys:\r\n    (runtime)\r\n" in everything
    assert everything.rstrip().endswith("running processes")
    one = script_text(node, "top vfs:distro:sys")
    assert one.startswith("vfs:distro:sys:\r\n    (runtime)\r\n    wit: 0\r\n    on-exit: Restart\r\n")
    assert "use -c to display" in one
    with_caps = script_text(node, "top -c vfs:distro:sys")
    assert 'fake.dev@kernel:distro:sys("messaging")' in with_caps
    assert script_text(node, "top a:b:c") == "process a:b:c not running"
    assert script_text(node, "top not-a-process").startswith("invalid process id: ")
    assert script_text(node, "top a:b:c d:e:f").startswith("Failed to parse args.")


def test_cat_reads_a_vfs_file_and_explains_a_missing_one(node: Node) -> None:
    scripts = json.loads(script_text(node, "cat /terminal:sys/pkg/scripts.json"))
    assert scripts["m.wasm"]["root"] is True and scripts["hi.wasm"]["request_networking"] is True
    usage = f"{BOLD_USAGE} cat <file_path>"
    assert script_text(node, "cat") == f"Print the contents of a file to the terminal.\n{usage}"
    assert script_text(node, "cat /terminal:sys/pkg/nope.txt") == (
        f"failed to read file /terminal:sys/pkg/nope.txt from VFS.\n{usage}"
    )


def test_alias_sets_uses_removes_and_persists(tmp_path: Path) -> None:
    usage = f"{BOLD_USAGE} alias <alias_name> <process_id>"
    with Node("fake.dev", home=tmp_path / "home", http_port=0) as node:
        assert script_text(node, "alias") == f"Change alias for a process.\n{usage}"
        assert script_text(node, "alias e bad-id") == f"Invalid process ID.\n{usage}"
        texts = run_line(node, "alias say echo:terminal:sys", count=2)
        assert sorted(texts) == sorted(["alias say set for echo:terminal:sys", f"{PREFIX}alias set"])
        assert script_text(node, "say hello") == "hello"
    with Node("fake.dev", home=tmp_path / "home", http_port=0) as node:
        assert script_text(node, "say after reboot") == "after reboot"
        texts = run_line(node, "alias say", count=2)
        assert sorted(texts) == sorted(["alias say removed", f"{PREFIX}alias set"])
        assert run_line(node, "say x") == [
            "error calling script: 'say' not found, either as an alias or process ID"
        ]
        texts = run_line(node, "alias never-set", count=2)
        assert sorted(texts) == sorted(["alias never-set not found", f"{PREFIX}alias set"])


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_kill_stops_a_process_and_refuses_a_bad_id(node: Node) -> None:
    assert script_text(node, "kill bad") == f"Invalid process ID.\n{BOLD_USAGE} kill <process_id>"
    node.install(EXAMPLES / "echo_raw", mode="native")
    assert node.process("echo:echo-raw:template.os") is not None
    assert script_text(node, "kill echo:echo-raw:template.os") == "killed process echo:echo-raw:template.os"
    assert node.process("echo:echo-raw:template.os") is None


def test_peer_and_net_diagnostics_answer_from_net(node: Node) -> None:
    own = script_text(node, "peer fake.dev")
    assert own.startswith("peer identity for fake.dev:\n    networking key: 0x")
    assert script_text(node, "peer nobody.dev") == "no PKI entry found with name nobody.dev"
    assert script_text(node, "net-diagnostics").startswith("\r\nour Identity: ")


def test_script_processes_are_cleaned_up(node: Node) -> None:
    script_text(node, "echo done")
    deadline = time.monotonic() + 15
    leftovers = [p.id for p in node.processes() if p.id.package_name == "terminal"]
    while leftovers and time.monotonic() < deadline:
        time.sleep(0.05)
        leftovers = [p.id for p in node.processes() if p.id.package_name == "terminal"]
    assert leftovers == []
