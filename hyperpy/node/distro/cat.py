"""`cat <path>`: print a vfs file (Hyperdrive `terminal/cat`)."""

from hyperpy import CallError, ModuleError, script, vfs
from hyperpy.node.distro import USAGE

CAT_USAGE = f"{USAGE} cat <file_path>"


@script
async def main(args: str) -> str:
    if not args:
        return f"Print the contents of a file to the terminal.\n{CAT_USAGE}"
    try:
        data = await vfs.read(args)
    except (ModuleError, CallError):
        return f"failed to read file {args} from VFS.\n{CAT_USAGE}"
    return data.decode("utf-8", errors="replace")
