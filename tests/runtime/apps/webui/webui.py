"""Serves the package's `pkg/ui` folder and one JSON endpoint beside it."""

from __future__ import annotations

from hyperpy import app, http


@app(name="webui", ui="ui", ui_authenticated=False, authenticated=False)
class WebUi:
    visits: int = 0

    @http(method="GET", path="/api/hello")
    def hello(self) -> str:
        self.visits += 1
        return "hello from the api"
