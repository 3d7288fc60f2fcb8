"""A raw (kit-style) process that obeys commands from its inbox: the guest of the runner tests.

Why a command interpreter: one component (built once) can then drive every host function with any
value the test chooses, and report back exactly what it got, so the tests pin each conversion of the
component runner in both directions, plus traps, stdio and the WASI context.

Every message the guest receives is reported first. A Request whose body is a JSON object is then
run as a command (keys below). Reports go through `print-to-terminal(0, REPORT_PREFIX + json)`.

* `{"call": name, "args": [...]}` - call `standard.<name>(*args)` (args in `wit_json` form); report
  `{"call": name, "ok": result}` or `{"call": name, "err": value}` when the import raised `Err`;
* `{"return": true}` - return from init;  `{"raise": text}` - raise RuntimeError(text);
* `{"stdout": text}` / `{"stderr": text}` - write to that stream;  `{"exit": code}` - `os._exit`;
* `{"count": true}` - bump a module-level counter and report it (shows whether memory is fresh);
* `{"inspect": true}` - report stdin, argv, environment, a root listing, the time and a random number.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from typing import Any

import wit_json

REPORT_PREFIX = "mirror "
counter = 0


def report(standard: Any, value: Any) -> None:
    standard.print_to_terminal(0, REPORT_PREFIX + json.dumps(value, sort_keys=True))


class WitWorld:
    def init(self, our: str) -> None:
        import componentize_py_types
        from wit_world.imports import standard

        namespace = dict(vars(standard))
        namespace.update(Err=componentize_py_types.Err, Ok=componentize_py_types.Ok)
        report(standard, {"init": our})
        while True:
            try:
                source, message = standard.receive()
            except componentize_py_types.Err as err:
                report(standard, {"receive-err": wit_json.encode(err.value)})
                continue
            report(standard, {"received": wit_json.encode((source, message))})
            if not isinstance(message, standard.Message_Request) or not message.value.body.startswith(b"{"):
                continue
            command = json.loads(message.value.body)
            if command.get("return"):
                return
            execute(standard, namespace, componentize_py_types.Err, command)


def execute(standard: Any, namespace: dict[str, Any], err_type: type, command: dict[str, Any]) -> None:
    global counter
    if "call" in command:
        name = command["call"]
        args = wit_json.decode(command.get("args", []), namespace)
        try:
            result = getattr(standard, name)(*args)
        except err_type as err:
            report(standard, {"call": name, "err": wit_json.encode(err.value)})
        else:
            report(standard, {"call": name, "ok": wit_json.encode(result)})
    elif "raise" in command:
        raise RuntimeError(command["raise"])
    elif "stdout" in command:
        sys.stdout.write(command["stdout"])
        sys.stdout.flush()
    elif "stderr" in command:
        sys.stderr.write(command["stderr"])
        sys.stderr.flush()
    elif "exit" in command:
        os._exit(command["exit"])
    elif "count" in command:
        counter += 1
        report(standard, {"count": counter})
    elif "inspect" in command:
        try:
            listing: Any = os.listdir("/")
        except OSError as error:
            listing = type(error).__name__
        report(
            standard,
            {
                "stdin": sys.stdin.read() if sys.stdin is not None else None,
                "argv": sys.argv,
                "environ": dict(os.environ),
                "listing": listing,
                "time": time.time(),
                "random": random.random(),
            },
        )
