"""Process entry point: turn an app module into the `WitWorld` class componentize-py exports.

The build generates an entry module containing `WitWorld = world_class(user_module)`; native mode
calls `world_class(module)().init(our)`. `world_class` validates the app (so declaration errors
surface while the component is pre-initialised at build time) and returns a class whose `init`
runs the app until the process is killed. A module with a `@script` function (and no `@app` class)
is a terminal script instead: its `init` takes the argument request, runs the function, answers or
prints the result and returns (`hyperpy.runtime.script_runtime`).
"""

from __future__ import annotations

import types
from typing import Any

from hyperpy.runtime.scripting import ScriptSpec, find_script
from hyperpy.runtime.spec import AppSpec, app_spec, defines_app_class


def world_class(module: types.ModuleType | type) -> type:
    """The `WitWorld` class for the app found in `module` (the one `@app` class it holds), or for
    its own `@script` function when it defines no app (a script may import the app it talks to)."""
    if isinstance(module, types.ModuleType) and not defines_app_class(module):
        script = find_script(module)
        if script is not None and script.function.__module__ == module.__name__:
            return _script_world(script)
    spec = app_spec(module)
    load_whole_runtime()

    class WitWorld:
        def init(self, our: str) -> None:
            run_app(spec, our)

    WitWorld.__doc__ = f"Exports `init(our)` of the process-v1 world for app {spec.name}."
    WitWorld.__module__ = spec.module
    return WitWorld


def _script_world(script: ScriptSpec) -> type:
    load_whole_runtime()
    import hyperpy.runtime.script_runtime

    class WitWorld:
        def init(self, our: str) -> None:
            hyperpy.runtime.script_runtime.run_script(script, our)

    WitWorld.__doc__ = f"Exports `init(our)` of the process-v1 world for script {script.name}."
    WitWorld.__module__ = script.module
    return WitWorld


def load_whole_runtime() -> None:
    """Import every module of the public API and of the running process now.

    `world_class` runs while the build pre-initialises the component, and a component can only
    import what was imported then (componentize-py has no file system at run time). `hyperpy`
    loads its names lazily for host tools, so here everything an app or the runtime may reach
    later (`hyperpy.kv` in a handler, the http-server wrappers at start-up, ...) is loaded up front.
    """
    import hyperpy
    import hyperpy.runtime.host
    import hyperpy.runtime.process

    for name in hyperpy.__all__:
        getattr(hyperpy, name)


def run_app(spec: AppSpec, our: str) -> None:
    """Start the app as the process `our` and serve messages (returns only if the kernel fails)."""
    from hyperpy.runtime.host import Host
    from hyperpy.runtime.process import ProcessRuntime

    host = Host(our)
    try:
        runtime = ProcessRuntime(spec, host)
    except Exception as error:
        _report_startup_failure(host, spec, error)
        raise
    runtime.run()


def _report_startup_failure(host: Any, spec: AppSpec, error: Exception) -> None:
    try:
        host.print(0, f"{spec.name}: cannot start: {type(error).__name__}: {error}")
    except Exception:
        return
