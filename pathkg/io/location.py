"""A run directory on a local disk or behind an fsspec URL (`file://`, `s3://…` with s3fs, `memory://`).

Local paths (and `file://` URLs) keep the plain-filesystem code: temporary file, fsync, rename.
Elsewhere a file is made visible in one step: on an object store (S3, GCS, Azure, memory) a
single put is atomic, so it is written with one `pipe`; on any other filesystem it is written
under a temporary name and moved over the target. Either way a reader sees the whole file or
none of it, which is what lets workers on several machines share one run directory.
"""

from __future__ import annotations

import posixpath
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from pathkg.io.atomic import TMP_MARK, remove_stale_temporaries, write_text_atomic

#: Filesystems whose single put replaces an object atomically.
OBJECT_STORES = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "memory"})


def is_url(where: str | Path) -> bool:
    return isinstance(where, str) and "://" in where


@dataclass(frozen=True)
class Location:
    """A directory: `local` is set when it is on this machine's filesystem."""

    url: str
    fs: Any
    root: str
    local: Path | None

    @classmethod
    def of(cls, where: str | Path) -> Location:
        if not is_url(where):
            path = Path(where)
            return cls(str(path), LocalFileSystem(), str(path), path)
        fs, root = fsspec.core.url_to_fs(str(where))
        local = Path(root) if isinstance(fs, LocalFileSystem) else None
        return cls(str(where).rstrip("/"), fs, root.rstrip("/"), local)

    @property
    def atomic_put(self) -> bool:
        protocols = self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,)
        return any(p in OBJECT_STORES for p in protocols)

    def path(self, *parts: str) -> str:
        """A path inside this directory, as the filesystem names it."""
        return posixpath.join(self.root, *parts)

    def url_of(self, *parts: str) -> str:
        """A path inside this directory as a URL (or a local path), for another process to open."""
        return posixpath.join(self.url, *parts) if self.local is None else str(Path(self.url, *parts))

    def exists(self, *parts: str) -> bool:
        return self.fs.exists(self.path(*parts))

    def makedirs(self, *parts: str) -> None:
        if self.local is not None:
            Path(self.path(*parts)).mkdir(parents=True, exist_ok=True)
        elif not self.atomic_put:  # object stores have no directories
            self.fs.makedirs(self.path(*parts), exist_ok=True)

    def read_text(self, *parts: str) -> str:
        with self.fs.open(self.path(*parts), "r", encoding="utf-8") as fh:
            return fh.read()

    def write_bytes_atomic(self, data: bytes, *parts: str) -> None:
        target = self.path(*parts)
        if self.atomic_put:
            self.fs.pipe_file(target, data)
            return
        if self.local is not None:
            from pathkg.io.atomic import atomic_path

            with atomic_path(Path(target)) as tmp:
                tmp.write_bytes(data)
            return
        self.fs.makedirs(posixpath.dirname(target), exist_ok=True)
        tmp = f"{target}{TMP_MARK}{uuid.uuid4().hex[:12]}"
        self.fs.pipe_file(tmp, data)
        self.fs.mv(tmp, target)

    def write_text_atomic(self, text: str, *parts: str) -> None:
        if self.local is not None:
            write_text_atomic(Path(self.path(*parts)), text)
        else:
            self.write_bytes_atomic(text.encode("utf-8"), *parts)

    def glob(self, *parts: str) -> list[str]:
        return sorted(self.fs.glob(self.path(*parts)))

    def remove_stale_temporaries(self) -> int:
        """Delete what killed writers left (only rename-based writes leave any)."""
        if self.local is not None:
            return remove_stale_temporaries(self.local)
        if self.atomic_put or not self.fs.exists(self.root):
            return 0
        stale = [p for p in self.fs.find(self.root) if TMP_MARK in posixpath.basename(p)]
        for path in stale:
            self.fs.rm(path)
        return len(stale)
