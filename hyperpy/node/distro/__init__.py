"""The distro's terminal scripts (`<name>:terminal:sys`), written with `@script` and run natively.

Hyperdrive ships them as Wasm processes of the `terminal:sys` package, listed in its
`pkg/scripts.json` (`hyperdrive/packages/terminal/pkg/scripts.json`), aliased by the terminal to their
short names. Here each is a Python module of this package; at boot the terminal writes the package
drive `/terminal:sys/pkg/` with a native marker in place of each `<name>.wasm` and Hyperdrive's
`scripts.json` entries, so running `hi` is exactly running a package's script: read the entry,
spawn the process with those capabilities through the kernel, send it the argument string.
"""

from __future__ import annotations

from hyperpy.node.scripts import DotScriptsEntry

_NET = ["net:distro:sys"]

# name -> (module under hyperpy.node.distro, Hyperdrive's scripts.json entry for it)
DISTRO_SCRIPTS: dict[str, tuple[str, DotScriptsEntry]] = {
    "alias": ("alias", DotScriptsEntry(False, False, False, ["terminal:terminal:sys"], [], 1)),
    "cat": (
        "cat",
        DotScriptsEntry(
            False,
            False,
            False,
            ["vfs:distro:sys", {"process": "vfs:distro:sys", "params": {"root": True}}],
            [],
            1,
        ),
    ),
    "echo": ("echo", DotScriptsEntry(False, False, False, [], [], 1)),
    "hi": ("hi", DotScriptsEntry(False, False, True, _NET, _NET, 1)),
    "kill": ("kill", DotScriptsEntry(True, False, False, [], [], 1)),
    "m": ("m", DotScriptsEntry(True, True, True, [], [], 1)),
    "net-diagnostics": ("net_diagnostics", DotScriptsEntry(False, False, False, _NET, _NET, 1)),
    "peer": ("peer", DotScriptsEntry(False, False, False, _NET, _NET, 1)),
    "peers": ("peers", DotScriptsEntry(False, False, False, _NET, _NET, 1)),
    "top": ("top", DotScriptsEntry(True, False, False, [], [], 1)),
}

USAGE = "\x1b[1mUsage:\x1b[0m"
