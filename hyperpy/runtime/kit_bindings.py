"""kit's Python bindings, provided on top of the ones hyperpy builds with.

kit pins componentize-py 0.11.0 (kit `src/setup/mod.rs` `REQUIRED_PY_PACKAGE`), and `kit new
--language python` writes code against the bindings that version generates:

    import chat_template_dot_os_v0                                 # the world, snake_case
    from chat_template_dot_os_v0.imports.standard import MessageRequest, receive, ...
    from chat_template_dot_os_v0.types import Err

    class ChatTemplateDotOsV0(chat_template_dot_os_v0.ChatTemplateDotOsV0):   # world, UpperCamel
        def init(self, our): ...

hyperpy builds with componentize-py 0.25.1, whose bindings are `wit_world` (class `WitWorld`),
`componentize_py_types.Err`, and variant cases named `Message_Request`, `OnExit_None_`. This module
maps one onto the other without touching the user's files: `install("chat_template_dot_os_v0")`
registers an import hook under which

* `<world>` is a package with `Result`, `Ok`, `Err`, `Some` and the Protocol class `<World>`;
* `<world>.types` holds `Result`, `Ok`, `Err`, `Some` (the same classes `wit_world` uses);
* `<world>.imports.<interface>` is `wit_world.imports.<interface>` with 0.11's names added
  (`MessageRequest`, `MessageResponse`, `OnExitNone`, `OnExitRestart`, `OnExitRequests`, ...) and every
  function wrapped so that an error comes back as a returned `Err` instead of a raised one.

Why return rather than raise: kit's templates test every result with `isinstance(result, Err)` and
unpack the rest (`source, message = receive()`), i.e. they are written for a call that returns its
error. componentize-py 0.11.0's generated functions in fact raise it (`if isinstance(result[0],
Err): raise result[0]`), so under kit a failed `receive()` escapes into the template's catch-all
`except Exception` instead; with this layer the template's own checks run, as its author meant. A
caller that ignores the returned value ignores the error (as it would have with a returned Err).

The same module serves both modes: in a component `wit_world` is componentize-py's bindings, in
native mode the node's shims of them (`hyperpy.node.runners.native_shim`). Pure Python, stdlib only.
"""

from __future__ import annotations

import functools
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, Protocol

MODERN_WORLD_MODULE = "wit_world"
RESULT_TYPES = ("Result", "Ok", "Err", "Some")


def world_class_name(world_module: str) -> str:
    """The export class componentize-py 0.11 names after the world: `chat_template_dot_os_v0` ->
    `ChatTemplateDotOsV0` (heck's UpperCamelCase of the world name), `process` -> `Process`."""
    return "".join(part[:1].upper() + part[1:] for part in world_module.split("_") if part)


def legacy_type_name(name: str) -> str:
    """componentize-py 0.11's name of a 0.25 type: `Message_Request` -> `MessageRequest`,
    `OnExit_None_` -> `OnExitNone` (cases were joined without '_' and no keyword escape was needed)."""
    return name.rstrip("_").replace("_", "")


def _results() -> types.ModuleType:
    return importlib.import_module("componentize_py_types")


def _returning_errors(function: Callable[..., Any], err: type[BaseException]) -> Callable[..., Any]:
    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except err as error:
            return error

    return call


def _interface_module(name: str, modern: types.ModuleType) -> types.ModuleType:
    """`modern` (a `wit_world.imports.<interface>`) under `name`, with kit's names and behaviour."""
    module = types.ModuleType(name, modern.__doc__)
    results = _results()
    err = results.Err
    for attribute, value in vars(modern).items():
        if attribute.startswith("__"):
            continue
        if isinstance(value, types.FunctionType) and attribute[:1].islower():
            value = _returning_errors(value, err)
        setattr(module, attribute, value)
        if isinstance(value, type) and attribute[:1].isupper() and "_" in attribute:
            setattr(module, legacy_type_name(attribute), value)
    for attribute in RESULT_TYPES:
        setattr(module, attribute, getattr(results, attribute))
    return module


def _world_module(name: str) -> types.ModuleType:
    module = types.ModuleType(name, f"kit-style bindings of the world {name} (hyperpy compatibility layer)")
    results = _results()
    for attribute in RESULT_TYPES:
        setattr(module, attribute, getattr(results, attribute))

    class World(Protocol):
        @abstractmethod
        def init(self, our: str) -> None:
            raise NotImplementedError

    World.__name__ = World.__qualname__ = world_class_name(name)
    World.__module__ = name
    setattr(module, World.__name__, World)
    return module


def _types_module(name: str) -> types.ModuleType:
    module = types.ModuleType(name, "componentize-py's result types, as 0.11 placed them")
    results = _results()
    for attribute in RESULT_TYPES:
        setattr(module, attribute, getattr(results, attribute))
    return module


class _LegacyBindingsFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Import hook answering `<world>`, `<world>.types`, `<world>.imports[.<interface>]`."""

    def __init__(self) -> None:
        self.worlds: set[str] = set()

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        world, _, rest = fullname.partition(".")
        if world not in self.worlds:
            return None
        if rest in ("", "imports"):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        if rest == "types":
            return importlib.machinery.ModuleSpec(fullname, self)
        if rest.startswith("imports.") and rest.count(".") == 1:
            modern = f"{MODERN_WORLD_MODULE}.{rest}"
            try:
                found = importlib.util.find_spec(modern)
            except (ImportError, ValueError):
                found = None
            if found is None and modern not in sys.modules:
                return None
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        world, _, rest = spec.name.partition(".")
        if rest == "":
            module = _world_module(world)
        elif rest == "types":
            module = _types_module(spec.name)
        elif rest == "imports":
            module = types.ModuleType(spec.name, "the world's imported interfaces")
        else:
            module = _interface_module(spec.name, importlib.import_module(f"{MODERN_WORLD_MODULE}.{rest}"))
        if spec.submodule_search_locations is not None:
            module.__path__ = []
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run: `create_module` built the module."""


_finder = _LegacyBindingsFinder()


def install(world_module: str) -> None:
    """Make `import <world_module>` (and its submodules) give kit's bindings. Idempotent."""
    if world_module == MODERN_WORLD_MODULE or not world_module.isidentifier():
        raise ValueError(f"{world_module!r} is not a legacy bindings module name")
    _finder.worlds.add(world_module)
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)


def world_class(app: types.ModuleType, world_module: str) -> type:
    """The export class of a kit-style module: the class named after the world (`ChatTemplateDotOsV0`)."""
    name = world_class_name(world_module)
    found = getattr(app, name, None)
    if not isinstance(found, type):
        raise TypeError(
            f"{getattr(app, '__file__', app.__name__)} imports the bindings as {world_module!r} but "
            f"defines no class {name}: with kit's bindings the process is the class named after the world, "
            f"`class {name}({world_module}.{name})` with `def init(self, our)`"
        )
    return found
