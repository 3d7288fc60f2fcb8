"""`hyperpy.node.wit_types` and the native shims match componentize-py's generated bindings exactly.

Why: a raw process written against the generated `wit_world.imports.standard` must run unchanged in
native mode, where the shim serves these classes. The bindings are generated afresh from our WIT with
the installed componentize-py and compared by reading their source (no import needed).
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from hyperpy.node import wit_types
from hyperpy.node.runners import native_shim
from hyperpy.package.wit import WIT_WORLD, wit_file


def _componentize_py() -> list[str]:
    script = Path(sys.executable).with_name("componentize-py")
    return [str(script)] if script.exists() else [sys.executable, "-m", "componentize_py"]


@pytest.fixture(scope="module")
def bindings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("bindings")
    subprocess.run(
        [*_componentize_py(), "-d", str(wit_file()), "-w", WIT_WORLD, "bindings", str(output)],
        check=True,
        capture_output=True,
    )
    return output


def _classes(path: Path) -> dict[str, ast.ClassDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}


def _fields(node: ast.ClassDef) -> list[str]:
    return [s.target.id for s in node.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)]


def _enum_members(node: ast.ClassDef) -> dict[str, int]:
    members = {}
    for statement in node.body:
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Constant):
            members[statement.targets[0].id] = statement.value.value  # type: ignore[attr-defined]
    return members


def _is_enum(node: ast.ClassDef) -> bool:
    return any(isinstance(base, ast.Name) and base.id == "Enum" for base in node.bases)


def _aliases(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def test_every_standard_class_field_and_enum_member_matches(bindings: Path) -> None:
    generated = _classes(bindings / "wit_world" / "imports" / "standard.py")
    assert generated, "componentize-py generated no classes"
    for name, node in generated.items():
        ours = getattr(wit_types, name, None)
        assert ours is not None, f"wit_types lacks {name}"
        if _is_enum(node):
            assert issubclass(ours, enum.Enum)
            assert {m.name: m.value for m in ours} == _enum_members(node), name
        else:
            assert dataclasses.is_dataclass(ours), name
            assert [f.name for f in dataclasses.fields(ours)] == _fields(node), name
    for alias in _aliases(bindings / "wit_world" / "imports" / "standard.py"):
        assert hasattr(wit_types, alias), f"wit_types lacks the alias {alias}"


def test_result_types_match_componentize_py_types(bindings: Path) -> None:
    generated = _classes(bindings / "componentize_py_types.py")
    assert set(generated) == {"Some", "Ok", "Err"}
    for name, node in generated.items():
        assert [f.name for f in dataclasses.fields(getattr(wit_types, name))] == _fields(node)
    assert issubclass(wit_types.Err, Exception)


def test_the_native_shim_has_every_generated_function_with_the_same_parameters(bindings: Path) -> None:
    tree = ast.parse((bindings / "wit_world" / "imports" / "standard.py").read_text(encoding="utf-8"))
    functions = {
        node.name: [a.arg for a in node.args.args] for node in tree.body if isinstance(node, ast.FunctionDef)
    }
    ours = {f.__name__: list(inspect.signature(f).parameters) for f in native_shim.STANDARD_FUNCTIONS}
    assert ours == functions
    generated_types = set(_classes(bindings / "wit_world" / "imports" / "standard.py")) | {
        "Message",
        "OnExit",
    }
    assert generated_types == set(native_shim.STANDARD_TYPES)


def test_installed_shims_expose_wit_types_under_the_generated_module_names() -> None:
    native_shim.install_shims()
    from componentize_py_types import Err
    from wit_world import WitWorld
    from wit_world.imports import standard

    assert standard.Address is wit_types.Address
    assert standard.Message_Request is wit_types.Message_Request
    assert Err is wit_types.Err
    assert callable(standard.receive)
    assert hasattr(WitWorld, "init")
    with pytest.raises(RuntimeError, match="outside a process"):
        standard.our()
