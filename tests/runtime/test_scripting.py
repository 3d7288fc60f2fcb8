"""`@script` declarations: what the decorator accepts, what `world_class` builds from a module."""

from __future__ import annotations

import types

import pytest

from hyperpy.errors import DeclarationError
from hyperpy.runtime.entry import world_class
from hyperpy.runtime.scripting import find_script, result_text


def module_from(source: str, name: str = "user_script") -> types.ModuleType:
    module = types.ModuleType(name)
    exec(compile(source, f"{name}.py", "exec"), module.__dict__)
    return module


def test_a_module_with_a_script_gets_a_script_world() -> None:
    module = module_from(
        "from hyperpy import script\n@script\ndef main(args: str) -> str:\n    return args\n"
    )
    spec = find_script(module)
    assert spec is not None and spec.function.__name__ == "main" and not spec.is_async
    world = world_class(module)
    assert "script user_script" in (world.__doc__ or "")


def test_a_script_may_import_the_app_it_talks_to() -> None:
    app_module = module_from(
        "from hyperpy import app\n@app(name='chat')\nclass Chat:\n    pass\n", "chat_app"
    )
    script_module = module_from(
        "from hyperpy import script\n@script\ndef main(args: str) -> str:\n    return args\n", "send"
    )
    script_module.Chat = app_module.Chat
    assert "script send" in (world_class(script_module).__doc__ or "")


def test_an_app_wins_over_an_imported_script() -> None:
    module = module_from(
        "from hyperpy import app, script\n"
        "@script\ndef main(args: str) -> str:\n    return args\n"
        "@app(name='both')\nclass Both:\n    pass\n"
    )
    assert "app both" in (world_class(module).__doc__ or "")


def test_script_signature_mistakes_are_named() -> None:
    with pytest.raises(DeclarationError, match="exactly one parameter, the argument string"):
        module_from("from hyperpy import script\n@script\ndef two(a: str, b: str) -> str:\n    return a\n")
    with pytest.raises(DeclarationError, match="module-level function, not a method"):
        module_from(
            "from hyperpy import app, script\n"
            "@app(name='holder')\nclass Holder:\n"
            "    @script\n    def method(self, args: str) -> str:\n        return args\n"
        )
    with pytest.raises(DeclarationError, match="several @script functions"):
        find_script(
            module_from(
                "from hyperpy import script\n"
                "@script\ndef a(args: str) -> str:\n    return args\n"
                "@script\ndef b(args: str) -> str:\n    return args\n"
            )
        )


def test_async_scripts_and_keyword_only_defaults_are_accepted() -> None:
    module = module_from(
        "from hyperpy import script\n"
        "@script\nasync def main(args: str, *, verbose: bool = False) -> str:\n    return args\n"
    )
    spec = find_script(module)
    assert spec is not None and spec.is_async


def test_result_text_is_what_the_terminal_prints() -> None:
    assert result_text(None) == ""
    assert result_text("x") == "x"
    assert result_text(b"\xffok") == "\ufffdok"
    assert result_text(42) == "42"
