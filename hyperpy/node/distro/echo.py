"""`echo <text>`: print the argument string (Hyperdrive `terminal/echo`)."""

from hyperpy import script


@script
def main(args: str) -> str:
    return args
