"""`ScriptedHost`: a test double for `StandardHost` that feeds the mirror guest commands.

It stands in for the kernel (which these tests must not need): `receive()` serves a scripted inbox,
every other function records its arguments and returns the next scripted result for that function
(or a default). A scripted result that is an exception (`Err`, `ProcessTrap`, ...) is raised
instead. Reports the mirror guest prints are decoded for assertions.
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any

import wit_json
from mirror import REPORT_PREFIX

from hyperpy.node import wit_types
from hyperpy.node.contracts import ProcessTrap
from hyperpy.node.wit_types import (
    Address,
    Capability,
    Err,
    LazyLoadBlob,
    Message,
    Message_Request,
    OnExit,
    OnExit_None_,
    ProcessId,
    Request,
    Response,
)

NAMESPACE: dict[str, Any] = {name: getattr(wit_types, name) for name in dir(wit_types)}

OUR = Address("fake.dev", ProcessId("mirror", "runner-test", "sys"))
DRIVER = Address("fake.dev", ProcessId("driver", "runner-test", "sys"))


class ScriptEnded(ProcessTrap):
    """The guest called receive() after the last scripted message (the test forgot to end it)."""


class ScriptedHost:
    def __init__(self, our: Address = OUR) -> None:
        self.address = our
        self.inbox: deque[tuple[Address, Message] | BaseException] = deque()
        self.results: dict[str, deque[Any]] = {}
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.printed: list[tuple[int, str]] = []

    # --- scripting -----------------------------------------------------------------------------

    def command(self, **command: Any) -> None:
        """Queue a Request from DRIVER whose body is the JSON command."""
        body = json.dumps(command).encode()
        self.deliver(DRIVER, Message_Request(Request(False, None, body, None, [])))

    def call(self, function: str, *args: Any) -> None:
        """Queue a command making the guest call `function(*args)` (args are wit_types values)."""
        self.command(call=function, args=wit_json.encode(list(args)))

    def deliver(self, source: Address, message: Message) -> None:
        self.inbox.append((source, message))

    def deliver_error(self, error: BaseException) -> None:
        """Make the next receive() raise `error` (an `Err((send_error, context))`, or a trap)."""
        self.inbox.append(error)

    def end(self) -> None:
        self.command(**{"return": True})

    def will_return(self, function: str, *results: Any) -> None:
        self.results.setdefault(function, deque()).extend(results)

    # --- reading the outcome -------------------------------------------------------------------

    def reports(self) -> list[dict[str, Any]]:
        return [
            json.loads(text[len(REPORT_PREFIX) :])
            for _, text in self.printed
            if text.startswith(REPORT_PREFIX)
        ]

    def call_results(self) -> list[dict[str, Any]]:
        """The guest's reports of its `call` commands, values decoded to wit_types."""
        decoded = []
        for report in self.reports():
            if "call" in report:
                outcome = "ok" if "ok" in report else "err"
                decoded.append({"call": report["call"], outcome: wit_json.decode(report[outcome], NAMESPACE)})
        return decoded

    def received(self) -> list[Any]:
        """What the guest's receive() returned (decoded), or `Err` values it raised, in order."""
        seen: list[Any] = []
        for report in self.reports():
            if "received" in report:
                seen.append(wit_json.decode(report["received"], NAMESPACE))
            elif "receive-err" in report:
                seen.append(Err(wit_json.decode(report["receive-err"], NAMESPACE)))
        return seen

    def calls_to(self, function: str) -> list[tuple[Any, ...]]:
        return [args for name, args in self.calls if name == function]

    # --- StandardHost --------------------------------------------------------------------------

    def _record(self, function: str, default: Any, *args: Any) -> Any:
        self.calls.append((function, args))
        queue = self.results.get(function)
        result = queue.popleft() if queue else default
        if isinstance(result, BaseException):
            raise result
        return result

    def print_to_terminal(self, verbosity: int, message: str) -> None:
        self.printed.append((verbosity, message))

    def our(self) -> Address:
        return self._record("our", self.address)

    def get_on_exit(self) -> OnExit:
        return self._record("get_on_exit", OnExit_None_())

    def set_on_exit(self, on_exit: OnExit) -> None:
        self._record("set_on_exit", None, on_exit)

    def get_state(self) -> bytes | None:
        return self._record("get_state", None)

    def set_state(self, bytes: bytes) -> None:
        self._record("set_state", None, bytes)

    def clear_state(self) -> None:
        self._record("clear_state", None)

    def spawn(
        self,
        name: str | None,
        wasm_path: str,
        on_exit: OnExit,
        request_capabilities: list[Capability],
        grant_capabilities: list[tuple[ProcessId, str]],
        public: bool,
    ) -> ProcessId:
        default = ProcessId(
            name or "1234", self.address.process.package_name, self.address.process.publisher_node
        )
        return self._record(
            "spawn", default, name, wasm_path, on_exit, request_capabilities, grant_capabilities, public
        )

    def save_capabilities(self, caps: list[Capability]) -> None:
        self._record("save_capabilities", None, caps)

    def drop_capabilities(self, caps: list[Capability]) -> None:
        self._record("drop_capabilities", None, caps)

    def our_capabilities(self) -> list[Capability]:
        return self._record("our_capabilities", [])

    def receive(self) -> tuple[Address, Message]:
        self.calls.append(("receive", ()))
        if not self.inbox:
            raise ScriptEnded("the test script ended: the guest called receive() once more")
        item = self.inbox.popleft()
        if isinstance(item, BaseException):
            raise item
        return item

    def has_blob(self) -> bool:
        return self._record("has_blob", False)

    def get_blob(self) -> LazyLoadBlob | None:
        return self._record("get_blob", None)

    def last_blob(self) -> LazyLoadBlob | None:
        return self._record("last_blob", None)

    def send_request(
        self, target: Address, request: Request, context: bytes | None, lazy_load_blob: LazyLoadBlob | None
    ) -> None:
        self._record("send_request", None, target, request, context, lazy_load_blob)

    def send_requests(
        self, requests: list[tuple[Address, Request, bytes | None, LazyLoadBlob | None]]
    ) -> None:
        self._record("send_requests", None, requests)

    def send_response(self, response: Response, lazy_load_blob: LazyLoadBlob | None) -> None:
        self._record("send_response", None, response, lazy_load_blob)

    def send_and_await_response(
        self, target: Address, request: Request, lazy_load_blob: LazyLoadBlob | None
    ) -> tuple[Address, Message]:
        return self._record("send_and_await_response", None, target, request, lazy_load_blob)
