"""Content-addressed directory trees: the build's staged inputs.

Why: componentize-py sees exactly the directories on its Python path, and the build cache is keyed
by what is in them. Staging each input (user sources, the guest runtime, the WIT, generated entry
modules) as a tree named by the digest of its content makes both the same thing: a cached
component can never have been built from files other than the ones its key describes, identical
inputs are staged once, and a tree is published by one atomic rename (never seen half-written).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class ContentTree:
    """Relative POSIX path -> file content (bytes) or a file to copy (Path)."""

    files: dict[str, bytes | Path] = field(default_factory=dict)

    def add(self, relative: str, content: bytes | Path) -> None:
        self.files[relative] = content

    def update(self, other: ContentTree, prefix: str = "") -> None:
        for relative, content in other.files.items():
            self.files[prefix + relative] = content

    def _read(self, relative: str) -> bytes:
        content = self.files[relative]
        return content if isinstance(content, bytes) else content.read_bytes()

    def file_digests(self) -> Iterator[tuple[str, str]]:
        for relative in sorted(self.files):
            yield relative, sha256_of(self._read(relative))

    def digest(self) -> str:
        """sha256 over every (path, content hash) pair, in sorted order."""
        outer = hashlib.sha256()
        for relative, digest in self.file_digests():
            outer.update(relative.encode("utf-8") + b"\0" + digest.encode("ascii") + b"\n")
        return outer.hexdigest()

    def materialize(self, parent: Path, digest: str | None = None) -> Path:
        """Write the tree to `parent/<digest>` (once); return that directory.

        The tree is written to a temporary sibling and renamed into place, so a concurrent or
        interrupted build never leaves a partial tree under the final name.
        """
        digest = digest or self.digest()
        final = parent / digest[:32]
        if final.is_dir():
            return final
        parent.mkdir(parents=True, exist_ok=True)
        temporary = Path(tempfile.mkdtemp(prefix=f".{digest[:12]}-", dir=parent))
        temporary.chmod(0o755)  # mkdtemp makes it private; the tree may become a user-visible pkg/
        try:
            for relative, content in self.files.items():
                target = temporary / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(content, bytes):
                    target.write_bytes(content)
                else:
                    shutil.copyfile(content, target)
            try:
                os.rename(temporary, final)
            except OSError:
                if not final.is_dir():
                    raise
        finally:
            if temporary.exists():
                shutil.rmtree(temporary, ignore_errors=True)
        return final


def tree_from_directory(directory: Path, relative_files: Mapping[str, Path] | None = None) -> ContentTree:
    """A tree of every file below `directory` (or of the given relative -> path mapping)."""
    tree = ContentTree()
    if relative_files is not None:
        for relative, path in relative_files.items():
            tree.add(relative, path)
        return tree
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            tree.add(path.relative_to(directory).as_posix(), path)
    return tree
