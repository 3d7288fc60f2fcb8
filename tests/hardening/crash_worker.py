"""A node that writes through vfs, state, kv and sqlite until it is killed with SIGKILL.

Run by test_hardening_crash.py as `python crash_worker.py HOME PROJECT ACKED_JSON ROUND`. It boots the
node in HOME (installing the modprobe package natively on the first round; later rounds restore it),
checks that everything `ACKED_JSON` lists as acknowledged is still there, prints one `CHECK ...` line
per store, then writes in a loop and prints `ACK <store> <round> <n>` after each acknowledged write,
until the test kills it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from hyperpy.node import Node

PROBE = "modprobe:modprobe:test.os"
PACKAGE = {"package_name": "modprobe", "publisher_node": "test.os"}
FILE = "/modprobe:test.os/crash/big.bin"
BLOB_SIZE = 2 * 1024 * 1024


def content(round_number: int, n: int) -> bytes:
    """A version of the overwritten file/state: a header and a body derived from it, so a torn or
    truncated copy is detectable."""
    header = f"{round_number}:{n}:".encode()
    return header + (header * (BLOB_SIZE // len(header)))


def version(data: bytes | None) -> tuple[int, int] | None:
    """The (round, n) a complete copy holds; None for a missing, empty or torn one."""
    if not data:
        return None
    round_text, n_text, _ = data.split(b":", 2)
    found = (int(round_text), int(n_text))
    return found if data == content(*found) else None


def ask(node: Node, target: str, body: object, blob: bytes | None = None, source: str = PROBE) -> object:
    reply = node.inject(target, json.dumps(body), blob=blob, expects_response=30, source=source)
    assert reply is not None, f"{target} gave no answer to {body}"
    return reply


def db(action: object) -> dict[str, object]:
    return {"package_id": PACKAGE, "db": "crash", "action": action}


def main() -> None:
    home, project, acked_path, round_number = (
        Path(sys.argv[1]),
        sys.argv[2],
        Path(sys.argv[3]),
        int(sys.argv[4]),
    )
    acked = json.loads(acked_path.read_text()) if acked_path.exists() else {}
    node = Node("fake.dev", home=home, restart_delay_scale=0.01)
    node.start()
    if node.process(PROBE) is None:
        node.install(project, mode="native")
        ask(node, "vfs:distro:sys", {"path": "/modprobe:test.os/crash", "action": "CreateDrive"})
        ask(node, "kv:distro:sys", db("Open"))
        ask(node, "sqlite:distro:sys", db("Open"))
        create = {
            "Write": {"statement": "CREATE TABLE IF NOT EXISTS acks (r INTEGER, n INTEGER)", "tx_id": None}
        }
        ask(node, "sqlite:distro:sys", db(create))
    check(node, acked)
    print("READY", flush=True)
    n = 0
    while True:
        n += 1
        data = content(round_number, n)
        ask(node, "vfs:distro:sys", {"path": FILE, "action": "Write"}, blob=data)
        print(f"ACK vfs {round_number} {n}", flush=True)
        ask(node, "state:distro:sys", {"SetState": PROBE}, blob=data, source="terminal:terminal:sys")
        print(f"ACK state {round_number} {n}", flush=True)
        ask(
            node,
            "kv:distro:sys",
            db({"Set": {"key": list(f"{round_number}:{n}".encode()), "tx_id": None}}),
            blob=b"v",
        )
        print(f"ACK kv {round_number} {n}", flush=True)
        insert = {"Write": {"statement": f"INSERT INTO acks VALUES ({round_number}, {n})", "tx_id": None}}
        ask(node, "sqlite:distro:sys", db(insert))
        print(f"ACK sqlite {round_number} {n}", flush=True)


def check(node: Node, acked: dict[str, list[list[int]]]) -> None:
    """Print `CHECK <store> ok|lost <detail>` for each store, against the acknowledged writes."""
    last = {store: max(map(tuple, acked.get(store, [])), default=None) for store in ("vfs", "state")}
    read = node.inject(
        "vfs:distro:sys", json.dumps({"path": FILE, "action": "Read"}), expects_response=30, source=PROBE
    )
    file_blob = read.blob if read is not None else None  # type: ignore[attr-defined]
    report("vfs", last["vfs"], version(file_blob.bytes if file_blob is not None else None))
    report("state", last["state"], version(node.get_state(PROBE)))
    lost_kv = []
    for r, n in acked.get("kv", []):
        reply = node.inject(
            "kv:distro:sys",
            json.dumps(db({"Get": list(f"{r}:{n}".encode())})),
            expects_response=30,
            source=PROBE,
        )
        if reply is None or json.loads(reply.body) != {"Get": list(f"{r}:{n}".encode())}:
            lost_kv.append((r, n))
    print(
        f"CHECK kv {'lost' if lost_kv else 'ok'} {len(acked.get('kv', []))} acknowledged, lost {lost_kv}",
        flush=True,
    )
    reply = node.inject(
        "sqlite:distro:sys",
        json.dumps(db({"Query": "SELECT r, n FROM acks"})),
        expects_response=30,
        source=PROBE,
    )
    rows = set()
    if reply is not None and reply.blob is not None:  # type: ignore[attr-defined]
        rows = {(row["r"], row["n"]) for row in json.loads(reply.blob.bytes)}  # type: ignore[attr-defined]
    lost_rows = [tuple(pair) for pair in acked.get("sqlite", []) if tuple(pair) not in rows]
    outcome = "lost" if lost_rows else "ok"
    print(f"CHECK sqlite {outcome} {len(acked.get('sqlite', []))} acknowledged, lost {lost_rows}", flush=True)


def report(store: str, last: tuple[int, ...] | None, found: tuple[int, int] | None) -> None:
    """An overwritten value must be complete and at least as new as the last acknowledged write."""
    ok = last is None or (found is not None and found >= tuple(last))
    print(f"CHECK {store} {'ok' if ok else 'lost'} last acknowledged {last}, found {found}", flush=True)


if __name__ == "__main__":
    main()
