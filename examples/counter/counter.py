"""A counter: the smallest app that shows HTTP routes, local requests and persisted state.

Try it on the local node (`hyperpy run examples/counter`), then open
http://localhost:8080/counter:counter:template.os/ (log in with any password), or from another
process: `await call("counter:counter:template.os", "increment", 5)`.

State version 2 renamed `value` to `count` and started recording `changes`; the `@migrate` function
upgrades state saved by version 1, so an upgrade loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from hyperpy import Err, Ok, Result, app, http, local, migrate, source
from hyperpy.http_server import Query, Response
from hyperpy.state import OnDiff


@dataclass
class Change:
    """One change of the counter and who made it (an address, or "http" for the web page)."""

    by: int
    source: str


@app(name="counter", save=OnDiff(), state_version=2)
class Counter:
    count: int = 0
    changes: list[Change] = field(default_factory=list)

    @migrate(from_version=1)
    @staticmethod
    def rename_value(fields: dict[str, Any]) -> dict[str, Any]:
        """Version 1 stored the count as `value`."""
        fields["count"] = fields.pop("value", 0)
        return fields

    @http(method="GET", path="/")
    def page(self) -> Response:
        return Response.html(PAGE.replace("{count}", str(self.count)))

    @http(method="GET", path="/api/count")
    @local
    def get_count(self) -> int:
        return self.count

    @http(method="POST", path="/api/increment")
    @local
    def increment(self, by: int = 1) -> int:
        """Add `by` (default 1). Over HTTP the JSON body is `by` itself, e.g. `5`."""
        self.count += by
        self.changes.append(Change(by, _who()))
        return self.count

    @http(method="POST", path="/api/decrement")
    @local
    def decrement(self, by: int = 1) -> Result[int, str]:
        """Subtract `by`, refusing to go below zero (answers `{"Err": ...}` then)."""
        if by > self.count:
            return Err(f"cannot take {by} from {self.count}")
        self.count -= by
        self.changes.append(Change(-by, _who()))
        return Ok(self.count)

    @http(method="GET", path="/api/changes")
    def recent_changes(self, limit: Annotated[int, Query()] = 10) -> list[Change]:
        return self.changes[-limit:] if limit > 0 else []

    @local
    def reset(self) -> int:
        """Local processes only: not reachable over HTTP."""
        self.count = 0
        self.changes.clear()
        return self.count


def _who() -> str:
    sender = source()
    return "http" if sender.process.process_name == "http-server" else str(sender)


PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Counter</title></head>
<body>
  <h1>Count: <span id="count">{count}</span></h1>
  <button id="plus">+1</button>
  <script>
    const base = location.pathname.replace(/\\/$/, "");
    document.getElementById("plus").onclick = async () => {
      const answer = await fetch(base + "/api/increment", {method: "POST", body: "1"});
      document.getElementById("count").textContent = await answer.json();
    };
  </script>
</body></html>
"""
