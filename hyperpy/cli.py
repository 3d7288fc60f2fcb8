"""The `hyperpy` command line. Each subcommand lives beside the code it drives and registers here."""

from __future__ import annotations

import click


@click.group()
@click.version_option(package_name="hyperpy")
def main() -> None:
    """hyperpy: build, check, run and test Hyperware processes written in Python."""


from hyperpy.node import cli as node_cli  # noqa: E402 - commands register after the group exists

main.add_command(node_cli.inject_command)
main.add_command(node_cli.start_package_command)
main.add_command(node_cli.run_command)

from hyperpy.build.check import check_command  # noqa: E402

main.add_command(check_command)

from hyperpy.build.cli import build_command  # noqa: E402

main.add_command(build_command)

from hyperpy.build.witgen.commands import stubs_command, wit_command  # noqa: E402

main.add_command(wit_command)
main.add_command(stubs_command)

from hyperpy.bench.cli import bench_command  # noqa: E402

main.add_command(bench_command)

from hyperpy.templates.scaffold import new_command  # noqa: E402

main.add_command(new_command)

from hyperpy.dev import dev_command  # noqa: E402

main.add_command(dev_command)
