"""Errors never kill the process: what a failing handler answers, with and without debug."""

from __future__ import annotations

import json

from scripted_standard import request, run_script

from hyperpy.runtime.decorators import app, local
from hyperpy.runtime.errors import HTTPError
from hyperpy.runtime.state import Never


@app(save=Never())
class Fragile:
    @local
    def divide(self, a: int, b: int) -> float:
        return a / b

    @local
    def refuse(self) -> int:
        raise HTTPError(403, "not for you")

    @local
    async def quit(self) -> int:
        raise SystemExit(3)


@app(save=Never(), debug=True)
class FragileDebug(Fragile):
    """The same handlers, with tracebacks in error answers."""


def answers(app_class: type, *bodies: object) -> list[tuple[object, dict[str, str]]]:
    sent = run_script(app_class, [request(body) for body in bodies])
    return [
        (json.loads(entry[1]), json.loads(entry[2])["hyperpy"]) for entry in sent if entry[0] == "response"
    ]


def test_a_raising_handler_answers_err_with_the_message_and_the_process_goes_on() -> None:
    result = answers(Fragile, {"Divide": [1, 0]}, {"Refuse": None}, {"Quit": None})
    assert result == [
        (
            {"Err": "ZeroDivisionError: division by zero"},
            {"error": "HandlerError", "message": "ZeroDivisionError: division by zero"},
        ),
        ({"Err": "not for you"}, {"error": "HandlerError", "message": "not for you"}),
        ({"Err": "SystemExit: 3"}, {"error": "HandlerError", "message": "SystemExit: 3"}),
    ]


def test_the_traceback_is_logged_but_only_answered_in_debug_mode() -> None:
    sent = run_script(Fragile, [request({"Divide": [1, 0]})])
    logged = "\n".join(entry[1] for entry in sent if entry[0] == "print")
    assert "Traceback (most recent call last)" in logged and "a / b" in logged
    ((body, error),) = answers(FragileDebug, {"Divide": [1, 0]})
    assert "Traceback (most recent call last)" in body["Err"]
    assert body["Err"].rstrip().endswith("ZeroDivisionError: division by zero")
    assert error["error"] == "HandlerError"
