"""A script that fails: the process ends with an error, the node keeps running."""

from hyperpy import script


@script
def main(args: str) -> str:
    raise RuntimeError(f"boom: {args}")
