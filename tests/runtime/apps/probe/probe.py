"""Probe app for the runtime's end-to-end tests (see tests/runtime/test_process_node.py)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Annotated, Any

from hyperpy import (
    CallOffline,
    CallTimeout,
    Err,
    HTTPError,
    Ok,
    Proxy,
    RemoteError,
    Result,
    app,
    background,
    call,
    call_raw,
    http,
    http_client,
    init,
    local,
    log,
    net,
    our,
    remote,
    send,
    source,
    vfs,
)
from hyperpy.http_server import Header, Response, WithBlob, http_request, incoming_blob, set_response_status
from hyperpy.state import EveryMessage, transient


@dataclass
class Tally:
    label: str
    total: int = 0


@app(name="probe", save=EveryMessage(), authenticated=False)
class Probe:
    count: int = 0
    tallies: list[Tally] = field(default_factory=list)
    events: dict[str, asyncio.Event] = transient(default_factory=dict)

    @init
    async def start(self) -> None:
        await asyncio.sleep(0.01)
        log(f"ready as {our()}", verbosity=0)

    @local
    @remote
    def increment(self, by: int) -> int:
        self.count += by
        return self.count

    @local
    def add_tally(self, tally: Tally) -> list[Tally]:
        self.tallies.append(tally)
        return self.tallies

    @local
    async def slow_echo(self, text: str, seconds: float) -> str:
        before = str(source())
        await asyncio.sleep(seconds)
        return f"{text} from {before} / {source()}"

    @local
    async def wait_for_signal(self, name: str) -> str:
        """Finishes in another request's turn: exercises answering a non-prompting request."""
        event = self.events.setdefault(name, asyncio.Event())
        log(f"waiting for {name}", verbosity=0)
        await event.wait()
        return f"{name} signalled"

    @local
    def signal(self, name: str) -> bool:
        event = self.events.setdefault(name, asyncio.Event())
        event.set()
        return True

    @local
    async def count_later(self, by: int) -> int:
        await asyncio.sleep(0.05)
        self.count += by
        return self.count

    @local
    async def relay(self, target: str, by: int) -> int:
        return await call(target, "increment", by, returns=int)

    @local
    @remote
    async def hold(self, seconds: float) -> float:
        await asyncio.sleep(seconds)
        return seconds

    @local
    @remote
    def echo(self, number: int) -> int:
        return number

    @local
    async def fan_out(self, target: str, calls: int) -> int:
        """`calls` concurrent calls; returns the sum of the answers (each call must get its own)."""
        results = await asyncio.gather(*(call(target, "echo", index, returns=int) for index in range(calls)))
        return sum(results)

    @local
    @remote
    def boom(self) -> int:
        raise ValueError("probe exploded")

    @local
    def secret(self) -> str:
        return "local only"

    @local
    async def try_call(self, target: str, handler: str, timeout: float, args: list[Any]) -> str:
        try:
            value = await call(target, handler, *args, timeout=timeout)
        except CallTimeout:
            return "CallTimeout"
        except CallOffline:
            return "CallOffline"
        except RemoteError as error:
            return f"RemoteError:{error.kind}:{error.detail}"
        return f"value:{value}"

    @local
    async def checked_divide(self, a: int, b: int) -> Result[float, str]:
        await asyncio.sleep(0)
        return Ok(a / b) if b else Err("division by zero")

    @local
    def background(self, by: int) -> bool:
        async def later() -> None:
            await asyncio.sleep(0.05)
            self.count += by
            log(f"background added {by}", verbosity=0)

        background(later())
        return True

    @local
    def get_count(self) -> int:
        return self.count

    @local
    async def via_proxy(self, target: str, by: int) -> int:
        """Typed proxy: argument and result types come from the Probe class."""
        return await Proxy(target, Probe, timeout=5).increment(by)

    @local
    def notify(self, target: str, by: int) -> bool:
        """Fire-and-forget: the target increments, nobody answers."""
        send(target, "increment", by)
        return True

    @http(method="GET", path="/fail")
    def fail_over_http(self) -> int:
        raise RuntimeError("kaput")

    @http(method="GET", path="/teapot")
    def teapot(self) -> str:
        raise HTTPError(418, {"reason": "short and stout"}, {"X-Tea": "earl grey"})

    @http(method="GET", path="/whoami")
    def whoami(self, agent: Annotated[str, Header("user-agent")] = "?") -> Response:
        set_response_status(202)
        return Response.text(f"{http_request().method} {agent}")

    @local
    def blob_size(self) -> int:
        """Reads the request's blob synchronously."""
        blob = incoming_blob()
        return len(blob.bytes) if blob is not None else -1

    @local
    async def blob_after_await(self) -> str:
        """Reads the request's blob after other messages may have arrived."""
        await asyncio.sleep(0.05)
        blob = incoming_blob()
        return blob.bytes.decode() if blob is not None else "no blob"

    @local
    @remote
    def reverse_blob(self) -> WithBlob[int]:
        """Answers the blob's length, and the blob reversed as the answer's blob."""
        blob = incoming_blob()
        data = blob.bytes if blob is not None else b""
        return WithBlob(len(data), data[::-1], "application/octet-stream")

    @local
    async def relay_blob(self, target: str, text: str) -> list[Any]:
        """Sends a blob with a call and answers [the reply's JSON, the reply's blob as text]."""
        reply = await call_raw(target, "reverse_blob", blob=text.encode())
        returned = reply.blob.bytes.decode() if reply.blob is not None else None
        return [json.loads(reply.body), returned]

    @local
    async def files(self, name: str, text: str) -> list[str]:
        """vfs: write a file in our drive, read it back and list the drive."""
        drive = await vfs.create_drive("files")
        await vfs.write(f"{drive}/{name}", text)
        entries = await vfs.read_dir(drive)
        return [await vfs.read_text(f"{drive}/{name}"), *(entry.path for entry in entries)]

    @local
    async def fetch(self, url: str) -> list[Any]:
        """http-client: GET `url` and answer [status, body text]."""
        response = await http_client.get(url, timeout=10)
        return [response.status, response.text()]

    @local
    async def signed(self, text: str) -> list[bool]:
        """net: sign with the node key, then verify the right and a tampered message."""
        signature = await net.sign(text.encode())
        return [
            await net.verify(our(), text.encode(), signature),
            await net.verify(our(), (text + "!").encode(), signature),
        ]
