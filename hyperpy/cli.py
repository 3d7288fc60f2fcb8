"""The `hyperpy` command line. Each subcommand lives beside the code it drives and registers here.

Why lazy: `hyperpy build` on an unchanged project must answer in well under half a second, and
importing every subcommand's module up front (the node's runtime modules, aiohttp, wasmtime ...)
costs more than the build itself. So the group knows each command only by `module:attribute` and
imports a module the first time its command is asked for (help listings included).
"""

from __future__ import annotations

import importlib

import click

# name -> "module:attribute" of the click command. Add one line per new command.
COMMANDS: dict[str, str] = {
    "new": "hyperpy.templates.scaffold:new_command",
    "build": "hyperpy.build.cli:build_command",
    "check": "hyperpy.build.check:check_command",
    "wit": "hyperpy.build.witgen.commands:wit_command",
    "stubs": "hyperpy.build.witgen.commands:stubs_command",
    "run": "hyperpy.commands.run:run_command",
    "inject": "hyperpy.commands.run:inject_command",
    "start-package": "hyperpy.commands.run:start_package_command",
    "dev": "hyperpy.commands.dev:dev_command",
    "bench": "hyperpy.bench.cli:bench_command",
}


class LazyGroup(click.Group):
    """A click group that imports a subcommand's module only when that command is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command (hyperpy/cli.py COMMANDS)")
        return command


@click.group(cls=LazyGroup)
@click.version_option(package_name="hyperpy")
def main() -> None:
    """hyperpy: build, check, run and test Hyperware processes written in Python."""
