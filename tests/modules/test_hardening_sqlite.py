"""sqlite:distro:sys keeps every process inside its own database file (a deliberate difference from
Hyperdrive, which runs ATTACH and VACUUM INTO): driven from a real process in both modes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from node_probe import Probe, sqlite

pytestmark = pytest.mark.hyperpy_modes("native", "component")


def victim_database(home: Path) -> Path:
    """Another package's database holding a secret, as the node would lay it out."""
    path = home / "sqlite" / "victim:test.os" / "secrets" / "secrets.db"
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE s (v TEXT)")
        connection.execute("INSERT INTO s VALUES ('the secret')")
    return path


def refusal(result: dict[str, Any]) -> str:
    body = result["body"]
    assert isinstance(body, dict) and set(body) == {"Err"}, body
    error = body["Err"]
    assert isinstance(error, dict) and set(error) == {"RusqliteError"}, error
    message = str(error["RusqliteError"])
    assert message.startswith("not authorized: ")
    return message


def test_sqlite_refuses_statements_that_reach_other_files(probe: Probe, hyperpy_node: Any) -> None:
    home = hyperpy_node.node.home
    victim = victim_database(home)
    outside = home / "escaped.db"
    assert sqlite(probe, "Open")["body"] == "Ok"
    assert sqlite(probe, {"Write": {"statement": "CREATE TABLE t (x)", "tx_id": None}})["body"] == "Ok"

    message = refusal(sqlite(probe, {"Query": f"ATTACH DATABASE '{victim}' AS v"}))
    assert str(victim) in message and "own database" in message
    refusal(sqlite(probe, {"Query": f"ATTACH '{outside}' AS o"}))
    refusal(sqlite(probe, {"Write": {"statement": f"VACUUM INTO '{outside}'", "tx_id": None}}))
    refusal(sqlite(probe, {"Query": "SELECT load_extension('/tmp/evil.so')"}))
    refusal(sqlite(probe, {"Query": "PRAGMA temp_store_directory = '/tmp'"}))
    tx = sqlite(probe, "BeginTx")["body"]["BeginTx"]["tx_id"]
    sqlite(probe, {"Write": {"statement": "INSERT INTO t VALUES (1)", "tx_id": tx}})
    loading = "INSERT INTO t SELECT load_extension('/tmp/evil.so')"
    sqlite(probe, {"Write": {"statement": loading, "tx_id": tx}})
    refusal(sqlite(probe, {"Commit": {"tx_id": tx}}))  # the whole transaction is rolled back
    assert not outside.exists()

    # what stays inside the database's own file works as on Hyperdrive
    assert sqlite(probe, {"Write": {"statement": "INSERT INTO t VALUES (2)", "tx_id": None}})["body"] == "Ok"
    assert sqlite(probe, {"Write": {"statement": "VACUUM", "tx_id": None}})["body"] == "Ok"
    assert sqlite(probe, {"Query": "ATTACH ':memory:' AS scratch"})["body"] == "Read"
    assert sqlite(probe, {"Query": "PRAGMA table_info(t)"})["body"] == "Read"
    assert json.loads(probe.blob(sqlite(probe, {"Query": "SELECT x FROM t"})) or b"") == [{"x": 2}]
