"""Running a `@script` process: process_lib's `script!` sequence on hyperpy's cooperative loop.

`script!` (process_lib `src/scripting/mod.rs`): wait for the first message; if it is not a Request,
return; decode its body as lossy UTF-8; call the script; answer with the returned string when the
request expects a response, else print it (verbosity 0); return from `init`, which ends the process.
The function runs as a task on a `ProcessRuntime` loop, so async scripts can await calls, system
modules and sleeps exactly like handlers; the runtime has no handlers of its own.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

from hyperpy.runtime.context import RequestContext, current_request
from hyperpy.runtime.decorators import app
from hyperpy.runtime.host import Host, Incoming
from hyperpy.runtime.process import KERNEL_PROCESS, ProcessRuntime
from hyperpy.runtime.prompting import Answerable
from hyperpy.runtime.scripting import ScriptSpec, result_text
from hyperpy.runtime.spec import app_spec
from hyperpy.runtime.state import Never


class ScriptRuntime(ProcessRuntime):
    """A process runtime that serves exactly one request: the terminal's argument string."""

    def __init__(self, script: ScriptSpec, host: Host) -> None:
        holder = type(script.name, (), {"__module__": script.module})
        super().__init__(app_spec(app(name=script.name, save=Never())(holder)), host)
        self.script = script
        self.started = False

    def run(self) -> None:
        """Receive the argument request, run the script, answer or print its result, return."""
        first = self._first_request()
        if first is None:
            return
        self.started = True
        answer_to: Answerable | None = None
        if first.expects_response is not None:
            answer_to = Answerable(self.loop.time() + first.expects_response)
            self.prompting = answer_to
        context = RequestContext(self, first.source, self.script.name, "script", answer_to, message=first)
        task_context = contextvars.copy_context()
        task_context.run(current_request.set, context)
        args = first.body.decode("utf-8", errors="replace")
        task = self.loop.create_task(self._invoke(args), name=f"script {self.name}", context=task_context)
        text = self.loop.run_until_complete(task)
        if answer_to is None:
            self.host.print(0, text)
            return
        self.answer(answer_to, text.encode())
        if answer_to.deferred is not None:
            # Another request became the kernel's prompting message while the script ran, and no
            # response of ours is left to bring the caller's request back: show the result instead
            # of losing it.
            answer_to.deferred = None
            self.log(0, f"{self.name}: could not answer the caller; result:\n{text}")

    def log(self, verbosity: int, text: str) -> None:
        """A script's `log()` is its output, printed as it is (process_lib's `println!`), not
        prefixed with an app name."""
        try:
            self.host.print(verbosity, text)
        except BaseException:
            return

    def _first_request(self) -> Incoming | None:
        while True:
            message = self.host.receive()
            if message.kind != "request":
                return None  # as `script!`: a first message that is not a Request ends the script
            if message.source_process == KERNEL_PROCESS:
                continue  # a stray "run" (runtime-contract.md §1.4 spawn quirk), not arguments
            return message

    async def _invoke(self, args: str) -> str:
        value: Any = self.script.function(args)
        if asyncio.iscoroutine(value):
            value = await value
        return result_text(value)

    def _on_request(self, message: Incoming) -> None:
        """Requests after the arguments are not for a script (a Rust script never receives them);
        keep the prompting model right and drop them, saying so."""
        if message.expects_response is not None:
            self._set_prompting(Answerable(self.loop.time() + message.expects_response))
        source = self.host.address_of(message.source)
        self.log(1, f"{self.name}: ignored a request from {source}: a script takes one")


def run_script(spec: ScriptSpec, our: str) -> None:
    """Start the script as the process `our` (returns when it has answered or printed)."""
    ScriptRuntime(spec, Host(our)).run()
