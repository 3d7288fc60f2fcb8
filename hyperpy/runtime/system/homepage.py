"""homepage:homepage:sys: put the app on the node's homepage (fire-and-forget, as process_lib does)."""

from __future__ import annotations

from hyperpy.runtime import well_known
from hyperpy.runtime.system import module_send

__hyperpy_process__ = well_known.HOMEPAGE


def add_to_homepage(
    label: str, icon: str | None = None, path: str | None = "/", widget: str | None = None
) -> None:
    """Add (or update) this app's tile: `icon` is a base64 SVG, `widget` HTML shown on the homepage."""
    module_send(__hyperpy_process__, {"Add": {"label": label, "icon": icon, "path": path, "widget": widget}})


def remove_from_homepage() -> None:
    module_send(__hyperpy_process__, "Remove")
