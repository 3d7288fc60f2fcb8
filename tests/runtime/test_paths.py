"""The one path compiler: validation, http-server binding and matching of `@http(path=...)` templates."""

from __future__ import annotations

import pytest

from hyperpy.runtime.paths import PathError, compile_path


def test_a_template_compiles_to_params_binding_and_matcher() -> None:
    path = compile_path("/items/{item_id}/files/{rest:path}")
    assert path.params == ("item_id", "rest")
    assert path.binding == "/items/:item_id/files/*rest"
    assert path.match("/items/7/files/a/b%20c.txt") == {"item_id": "7", "rest": "a/b c.txt"}
    assert path.match("/items/7/") is None
    assert compile_path("/items/{item_id}").match("/items/7/") == {"item_id": "7"}
    assert compile_path("/").match("/") == {} and compile_path("/").binding == "/"


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("/items/id{x}", "is malformed"),
        ("/{rest:path}/more", "must be the last segment"),
        ("/{a}/{a}", "names {a} twice"),
    ],
)
def test_malformed_templates_are_refused_naming_the_segment(template: str, problem: str) -> None:
    with pytest.raises(PathError, match=problem):
        compile_path(template)
