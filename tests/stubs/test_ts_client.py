"""The TypeScript client (and its plain-JS twin) call HTTP handlers the way kit's caller-utils does.

Both outputs run in node against a recording `fetch`: URL = origin + process prefix + the
`// HTTP:` path, method from the comment, body `{"Pascal": ...}` (none for GET), `{"Ok"}`
unwrapped, `{"Err"}` and non-2xx statuses thrown as ApiError. The TS file must also compile
under `tsc --strict`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from hyperpy.build.witgen.reader import read_api_dir
from hyperpy.build.witgen.stubs_ts import generate_javascript_client, generate_typescript_client
from tests.stubs.conftest import FIXTURES

HARNESS = """
import { Notes, setBaseUrl, ApiError } from "./caller-utils.js";
const calls = [];
const replies = [
  { status: 200, json: { Ok: [{ id: 1, title: "milk", body: null, priority: "High", attachment: [1],
                              owner: "a@b:c:d", type: "t", extra: null }] } },
  { status: 200, json: [["notes", 2]] },
  { status: 200, json: { Err: "bad query" } },
  { status: 500, json: "boom" },
  { status: 200, json: [] },
];
globalThis.window = { location: { origin: "http://node.test" } };
globalThis.fetch = async (url, init) => {
  calls.push({ url, method: init.method, body: init.body ?? null, headers: init.headers });
  const reply = replies.shift();
  return { ok: reply.status < 300, status: reply.status,
           json: async () => reply.json, text: async () => JSON.stringify(reply.json) };
};
const results = [];
results.push(await Notes.search("milk", 3));
results.push(await Notes.get_stats());
for (const attempt of [() => Notes.search("x", null), () => Notes.search("y", 1)]) {
  try { await attempt(); results.push("no error"); }
  catch (e) {
    results.push({ error: e instanceof ApiError, details: e.details ?? null, status: e.status ?? null });
  }
}
setBaseUrl("http://elsewhere:9/p:q:r/");
results.push(await Notes.get_stats());
results.push(Notes.Priority.VeryUrgent);
console.log(JSON.stringify({ calls, results }));
"""


def _run_in_node(directory: Path) -> dict[str, Any]:
    (directory / "package.json").write_text('{"type": "module"}', encoding="utf-8")
    (directory / "harness.js").write_text(HARNESS, encoding="utf-8")
    result = subprocess.run(
        ["node", "harness.js"], cwd=directory, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def _check_behaviour(outcome: dict[str, Any]) -> None:
    calls, results = outcome["calls"], outcome["results"]
    assert calls[0] == {
        "url": "http://node.test/notes:notes:sys/api/search",
        "method": "POST",
        "body": '{"Search":["milk",3]}',
        "headers": {"Content-Type": "application/json"},
    }
    assert (calls[1]["url"], calls[1]["method"], calls[1]["body"]) == (
        "http://node.test/notes:notes:sys/api/stats",
        "GET",
        None,
    )
    assert calls[2]["body"] == '{"Search":["x",null]}'
    assert calls[4]["url"] == "http://elsewhere:9/p:q:r/api/stats"
    assert results[0][0]["title"] == "milk"  # {"Ok": [...]} unwrapped
    assert results[1] == [["notes", 2]]  # a non-result return is passed through untouched
    assert results[2] == {"error": True, "details": "bad query", "status": None}
    assert results[3] == {"error": True, "details": '"boom"', "status": 500}
    assert results[5] == "VeryUrgent"


def _notes_clients() -> tuple[str, str]:
    document = read_api_dir(FIXTURES / "rust_notes" / "api")
    ts = generate_typescript_client(document.interfaces, document, process_prefix="/notes:notes:sys")
    js = generate_javascript_client(document.interfaces, document, process_prefix="/notes:notes:sys")
    return ts, js


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_plain_js_client_calls_http_handlers_like_caller_utils(tmp_path: Path) -> None:
    _, js = _notes_clients()
    (tmp_path / "caller-utils.js").write_text(js, encoding="utf-8")
    _check_behaviour(_run_in_node(tmp_path))


def test_typescript_client_compiles_strict_and_behaves_the_same(tmp_path: Path, tsc: Path) -> None:
    ts, _ = _notes_clients()
    (tmp_path / "caller-utils.ts").write_text(ts, encoding="utf-8")
    options = ["--strict", "--target", "es2022", "--module", "es2022", "--lib", "es2022,dom", "--outDir", "."]
    compiled = subprocess.run(
        [str(tsc), *options, "caller-utils.ts"], cwd=tmp_path, capture_output=True, text=True
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    _check_behaviour(_run_in_node(tmp_path))


def test_kit_conventions_in_the_typescript_source() -> None:
    ts, _ = _notes_clients()
    assert "export namespace Notes {" in ts
    assert "export interface Note {\n    id: number;" in ts  # snake_case keys as on the wire
    assert "attachment: number[];" in ts  # list<u8> is an array of numbers in JSON
    assert 'export type NoteEvent = { Created: number } | "Archived" | { Tagged: string[] };' in ts
    assert "export interface SearchRequestWrapper {\n    Search: [string, number | null];" in ts
    assert "export type SearchResponse = { Ok: Note[] } | { Err: string };" in ts
    # local/remote-only handlers are not HTTP endpoints
    assert "add_note" not in ts
