"""What a package's `pkg/` holds, decided once for `hyperpy build` and for a native install.

Why one place: `hyperpy build` writes pkg/ (and zips it); installing an unbuilt project natively on
the local node synthesizes the same pkg/ without compiling. They used to assemble it separately,
and the native one lacked `api.zip`, so a package installed natively offered no API to the app
store's `GetApi` (what `kit build` and `hyperpy wit --url` fetch for dependencies) although its
built twin did. Both now call `pkg_files`.

Contents (kit's layout, Hyperware book "Package APIs"): the user's own files in pkg/ (kept), the
app's UI folder, one `<process>.wasm` per process or script, the generated files (`manifest.json`,
`scripts.json` unless the user wrote them), and `api.zip` = the package's `api/*.wit` plus
metadata's `properties.api_includes` (an empty zip when there are none, as kit writes it).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from hyperpy.package.archive import zip_directory_bytes
from hyperpy.package.wit import WIT_FILE_NAME

API_ZIP = "api.zip"


class PkgContentsError(ValueError):
    """A file pkg/ needs is missing; the message names the setting and the path it expects."""


def api_wit_files(api_dir: Path) -> tuple[Path, ...]:
    """The package's API WIT files (`api/*.wit`), sorted; none if there is no api/ directory."""
    if not api_dir.is_dir():
        return ()
    return tuple(sorted(p for p in api_dir.glob("*.wit") if p.is_file() and p.name != WIT_FILE_NAME))


def api_zip(root: Path, api_files: Iterable[Path], includes: Sequence[str], metadata_path: Path) -> bytes:
    """kit's api.zip: `api_files` plus metadata's `api_includes` (paths relative to `root`)."""
    with tempfile.TemporaryDirectory() as scratch:
        staged = Path(scratch)
        for path in api_files:
            shutil.copyfile(path, staged / path.name)
        for include in includes:
            source = (root / include).resolve()
            if not source.is_file():
                raise PkgContentsError(
                    f"{metadata_path}: properties.api_includes: {include!r} is not a file "
                    f"(paths are relative to {root})"
                )
            shutil.copyfile(source, staged / source.name)
        return zip_directory_bytes(staged)


def pkg_files(
    *,
    own_files: Mapping[str, Path],
    ui: Mapping[str, Path],
    wasm: Mapping[str, Path | bytes],
    generated: Mapping[str, bytes],
    api: bytes,
) -> dict[str, Path | bytes]:
    """The complete pkg/ as relative path -> file or bytes: the user's own files first, then the UI
    folder, then what hyperpy writes (components, generated files, api.zip), which replaces a user
    file of the same name."""
    files: dict[str, Path | bytes] = {}
    files.update(own_files)
    files.update(ui)
    files.update(wasm)
    files.update(generated)
    files[API_ZIP] = api
    return files
