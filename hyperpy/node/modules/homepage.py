"""homepage:homepage:sys — the app list at `/`, plus `/our`, `/our.js` and friends.

On Hyperdrive this is a userspace process (HD `packages/homepage/homepage/src/lib.rs`; API
`homepage:sys-v2.wit`, runtime-contract.md §3.8). The emulator runs it as a host module, but it binds
its paths through http-server exactly as the process does (un-prefixed, since http-server exempts
`homepage:homepage:sys` from the process prefix), and every HTTP request reaches it as an ordinary
`{"Http": ..}` Request through the kernel.

Requests (JSON; the sender needs messaging to homepage, which is not public):
`{"Add": {"label", "icon": base64|null, "path": "/"|null, "widget": html|null}}` (stored path
`/<process-id>/<path without leading />`), `"Remove"`, `{"RemoveOther": "p:k:s"}` (needs the
attached cap `"RemoveOther"` issued by homepage), `"GetApps"` → `{"GetApps": [App..]}`,
`{"SetStylesheet": css}` (needs `"SetStylesheet"`), `"GetPushSubscription"` → `{"PushSubscription": null}`.
Malformed requests are ignored, as Hyperdrive does, with a printout saying why.

Served paths: `/our` (the node name), `/our.js` (`window.our = {}; window.our.node = '<node>';` — and,
beyond Hyperdrive, `window.our.process` when the page that loads it lives under a process path, so a
UI can skip computing it), `/amionline`, `/hyperware.css`, and, behind the login cookie, `/` (the app
list and widgets) and `/apps` (JSON). The app list lives in memory: processes re-add themselves when
they start, as on Hyperdrive.
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from hyperpy.node.contracts import KernelMessage
from hyperpy.node.modules.base import ModuleBase, request_of
from hyperpy.node.modules.http_server import HttpServerModule
from hyperpy.node.modules.http_wire import Bind
from hyperpy.node.modules.wire import UNIT, Tagged, TaggedEnum, WireError, WireModel, decode_json, encode_json
from hyperpy.node.well_known import HOMEPAGE_PROCESS_ID, HTTP_SERVER_PROCESS_ID
from hyperpy.node.wit_types import Capability, LazyLoadBlob, ProcessId
from hyperpy.runtime import jsonwire

HOMEPAGE_ID = HOMEPAGE_PROCESS_ID
HTTP_SERVER_ID = HTTP_SERVER_PROCESS_ID
DEFAULT_FAVORITES = ("main:app-store:sys", "settings:settings:sys")
DEFAULT_STYLESHEET = """:root { color-scheme: light dark; font-family: system-ui, sans-serif; }
body { margin: 2rem; }
a { color: #4a6cf7; }
"""


class AddRequest(WireModel):
    label: str
    icon: str | None = None
    path: str | None = None
    widget: str | None = None


HOMEPAGE_REQUEST = TaggedEnum(
    "homepage::Request",
    {
        "Add": AddRequest,
        "Remove": UNIT,
        "RemoveOther": str,
        "SetStylesheet": str,
        "GetApps": UNIT,
        "GetPushSubscription": UNIT,
    },
)


@dataclass
class App:
    """The `app` record of homepage:sys-v2.wit, with serde's field names."""

    id: str
    process: str
    package_name: str
    publisher: str
    path: str | None
    label: str
    base64_icon: str | None
    widget: str | None
    order: int
    favorite: bool


def our_js(node: str, referer: str | None) -> str:
    """`/our.js`: Hyperdrive's script, plus `window.our.process` derived from the loading page's path."""
    script = f"window.our = {{}}; window.our.node = {json.dumps(node)};"
    if referer:
        first = urlsplit(referer).path.strip("/").split("/")[0]
        try:
            process = ProcessId.parse(first)
        except ValueError:
            return script
        script += f" window.our.process = {json.dumps(str(process))};"
    return script


class HomepageModule(ModuleBase):
    process_id = HOMEPAGE_ID

    def __init__(self, http_server: HttpServerModule) -> None:
        super().__init__()
        self._http = http_server
        self.apps: dict[str, App] = {}
        self._stylesheet = DEFAULT_STYLESHEET

    async def on_start(self) -> None:
        node = self.node.our_node
        self._bind("/our", cache=LazyLoadBlob("text/html", node.encode()))
        self._bind("/amionline", cache=LazyLoadBlob("text/html", b"yes"))
        self._bind("/hyperware.css", cache=LazyLoadBlob("text/css", self._stylesheet.encode()))
        self._bind("/our.js")
        self._bind("/", authenticated=True)
        self._bind("/apps", authenticated=True)

    def _bind(self, path: str, *, authenticated: bool = False, cache: LazyLoadBlob | None = None) -> None:
        action = Tagged(
            "Bind", Bind(path=path, authenticated=authenticated, local_only=False, cache=cache is not None)
        )
        self._http.bind_for(HOMEPAGE_ID, action, cache)

    async def handle(self, message: KernelMessage) -> None:
        request = request_of(message)
        if request is None:
            return
        if message.source.process == HTTP_SERVER_ID:
            self._serve_http(message, request.body)
            return
        try:
            action = HOMEPAGE_REQUEST.parse(decode_json(request.body), "body")
        except WireError as error:
            self.log(0, f"homepage: ignored a malformed request from {message.source}: {error.detail}")
            return
        self._apply(message, action, request.capabilities)

    def _apply(self, message: KernelMessage, action: Tagged, caps: list[Capability]) -> None:
        source = message.source.process
        if action.name == "Add":
            self._add(source, action.value)
        elif action.name == "Remove":
            self.apps.pop(str(source), None)
        elif action.name == "RemoveOther":
            if self._attached(caps, "RemoveOther", source):
                self.apps.pop(action.value, None)
        elif action.name == "SetStylesheet":
            if self._attached(caps, "SetStylesheet", source):
                self._stylesheet = action.value
                self._bind("/hyperware.css", cache=LazyLoadBlob("text/css", action.value.encode()))
        elif action.name == "GetApps":
            apps = [asdict(app) for _, app in sorted(self.apps.items())]
            self.respond(message, encode_json({"GetApps": apps}))
        else:
            self.respond(message, encode_json({"PushSubscription": None}))

    def _attached(self, caps: list[Capability], name: str, source: ProcessId) -> bool:
        wanted = Capability(self.address, jsonwire.dumps_str(name)).key()
        if any(cap.key() == wanted for cap in caps):
            return True
        self.log(
            0, f"homepage: ignored {name} from {source}: it must attach the capability {json.dumps(name)}"
        )
        return False

    def _add(self, source: ProcessId, add: AddRequest) -> None:
        key = str(source)
        previous = self.apps.get(key)
        self.apps[key] = App(
            id=key,
            process=source.process_name,
            package_name=source.package_name,
            publisher=source.publisher_node,
            path=None if add.path is None else f"/{source}/{add.path.removeprefix('/')}",
            label=add.label,
            base64_icon=add.icon,
            widget=add.widget,
            order=previous.order if previous else len(self.apps),
            favorite=key in DEFAULT_FAVORITES,
        )

    # ------------------------------------------------------------------ HTTP

    def _serve_http(self, message: KernelMessage, body: bytes) -> None:
        try:
            incoming = jsonwire.loads(body)["Http"]
            bound, headers = incoming["bound_path"], incoming["headers"]
        except (ValueError, KeyError, TypeError):
            return
        if bound == "/our.js":
            content, mime = our_js(self.node.our_node, headers.get("referer")), "application/javascript"
        elif bound == "/apps":
            apps = [asdict(app) for app in sorted(self.apps.values(), key=lambda app: app.order)]
            content, mime = jsonwire.dumps_str(apps), "application/json"
        elif bound == "":
            content, mime = self._page(), "text/html"
        else:
            self.respond(message, encode_json({"status": 404, "headers": {}}))
            return
        answer = {"status": 200, "headers": {"Content-Type": mime}}
        self.respond(message, encode_json(answer), LazyLoadBlob(None, content.encode()))

    def _page(self) -> str:
        node = html.escape(self.node.our_node)
        items = []
        for app in sorted(self.apps.values(), key=lambda app: app.order):
            icon = (
                f'<img src="data:image/svg+xml;base64,{html.escape(app.base64_icon)}" alt="" width="48">'
                if app.base64_icon
                else ""
            )
            label = html.escape(app.label)
            title = f'<a href="{html.escape(app.path)}">{label}</a>' if app.path else label
            widget = (
                f'<iframe title="{label}" srcdoc="{html.escape(app.widget)}" width="400" height="300">'
                "</iframe>"
                if app.widget
                else ""
            )
            items.append(f'<li data-app="{html.escape(app.id)}">{icon} {title}{widget}</li>')
        listing = "\n".join(items) or "<li>No apps have added themselves yet.</li>"
        return (
            f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{node}</title>'
            f'<link rel="stylesheet" href="/hyperware.css"></head><body><h1>{node}</h1>'
            f'<ul id="apps">{listing}</ul></body></html>'
        )
