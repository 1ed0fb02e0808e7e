"""Atomic writes of many small files (tiles), made visible together by one commit.

Each file is written to a temporary name next to its target (marked like `atomic.atomic_path`'s,
so `remove_stale_temporaries` clears what a killed writer leaves) and fsynced right away, on the
writer's thread, where it overlaps with whatever else the caller does. `commit()` renames each
temporary over its target and fsyncs each directory once. A reader never sees a torn file, as
with `atomic_path`, and the batch's rename and directory flushes happen once, at the end.
"""

from __future__ import annotations

import itertools
import os
import threading
from pathlib import Path
from types import TracebackType

from pathkg.io.atomic import TMP_MARK

_counter = itertools.count()


class AtomicBatch:
    """Use as a context manager: committed on success, temporaries removed on an exception.

    `write_bytes` may be called from one thread while another thread does other work; calls
    themselves are serialised by a lock.
    """

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []
        self._made_dirs: set[Path] = set()
        self._lock = threading.Lock()
        self.written: list[Path] = []

    def write_bytes(self, target: Path, data: bytes) -> None:
        target = Path(target)
        parent = target.parent
        with self._lock:
            if parent not in self._made_dirs:
                parent.mkdir(parents=True, exist_ok=True)
                self._made_dirs.add(parent)
            tmp = parent / f"{target.name}{TMP_MARK}{os.getpid()}-{next(_counter)}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            except BaseException:
                os.close(fd)
                tmp.unlink(missing_ok=True)
                raise
            os.close(fd)
            self._pending.append((tmp, target))

    def commit(self) -> list[Path]:
        """Rename every written file into place and make the renames durable; returns the targets."""
        with self._lock:
            dirs: set[Path] = set()
            for tmp, target in self._pending:
                os.replace(tmp, target)
                dirs.add(target.parent)
                self.written.append(target)
            self._pending.clear()
            for directory in dirs:
                fd = os.open(directory, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            return self.written

    def abort(self) -> None:
        with self._lock:
            for tmp, _ in self._pending:
                tmp.unlink(missing_ok=True)
            self._pending.clear()

    def __enter__(self) -> AtomicBatch:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()
