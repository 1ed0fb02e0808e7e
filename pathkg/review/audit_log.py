"""The append-only review audit log: one JSON line per decision, each sealed with its own sha256.

Crash safety: a decision is one `write()` of a whole line to a file opened with O_APPEND, then `fsync`.
A crash can leave at most a torn last line; a line that does not parse or whose seal does not match its
record is never counted (it is reported by `read()`), and the next append starts on a fresh line.

Concurrency: appends take an exclusive `flock` on the log, so the version check and the write are one
step across processes (the web server and the CLI may write to the same run at once).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from schemas.review import ReviewDecision

#: Crash tests only: seconds to pause after writing (and syncing) the first half of a line, so that a test
#: can kill the process in the middle of a save. Unset in normal use.
FAULT_PAUSE_ENV = "PATHKG_REVIEW_FAULT_PAUSE_S"


class VersionConflict(RuntimeError):
    """A decision was made against a stale review state: someone else saved the sample first."""

    def __init__(self, sample_id: str, expected: int, current: int):
        super().__init__(
            f"sample {sample_id} changed since it was loaded (version {expected}, now {current}); reload it"
        )
        self.sample_id = sample_id
        self.expected = expected
        self.current = current


@dataclass
class LogContents:
    decisions: list[ReviewDecision] = field(default_factory=list)
    #: (line number, why) for every line that does not count: torn, unsealed, invalid.
    ignored: list[tuple[int, str]] = field(default_factory=list)

    def versions(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for d in self.decisions:
            counts[d.sample_id] = counts.get(d.sample_id, 0) + 1
        return counts

    def seal(self) -> str | None:
        """A digest of every counted decision (None when there is none): changes whenever a decision is added."""
        if not self.decisions:
            return None
        digest = hashlib.sha256()
        for d in self.decisions:
            digest.update(d.decision_id.encode())
        return digest.hexdigest()


def _seal(record_json: str) -> str:
    return hashlib.sha256(record_json.encode("utf-8")).hexdigest()


def encode_line(decision: ReviewDecision) -> bytes:
    record = decision.model_dump(mode="json")
    record_json = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (json.dumps({"sha256": _seal(record_json), "record": record}, ensure_ascii=False) + "\n").encode("utf-8")


def decode_line(line: bytes) -> ReviewDecision:
    """One sealed line back to its decision; ValueError when it is torn, tampered with or invalid."""
    if not line.endswith(b"\n"):
        raise ValueError("torn line (no newline: the write did not finish)")
    try:
        wrapper = json.loads(line)
        record = wrapper["record"]
        record_json = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if _seal(record_json) != wrapper["sha256"]:
            raise ValueError("seal mismatch")
        return ReviewDecision.model_validate(record)
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"unreadable line: {type(exc).__name__}") from exc
    except ValidationError as exc:
        raise ValueError(f"invalid decision: {exc.error_count()} errors") from exc


class AuditLog:
    """`RUN_DIR/review/audit.jsonl`. Only ever appended to; the review state is derived from it."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @classmethod
    def for_run(cls, run_dir: Path) -> AuditLog:
        return cls(Path(run_dir) / "review" / "audit.jsonl")

    def read(self) -> LogContents:
        contents = LogContents()
        if not self.path.exists():
            return contents
        seen: set[str] = set()
        with self.path.open("rb") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    decision = decode_line(line)
                except ValueError as exc:
                    contents.ignored.append((number, str(exc)))
                    continue
                if decision.decision_id in seen:
                    contents.ignored.append((number, f"duplicate decision {decision.decision_id}"))
                    continue
                seen.add(decision.decision_id)
                contents.decisions.append(decision)
        return contents

    @contextmanager
    def _locked(self) -> Iterator[int]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if created:  # make the new file's directory entry durable too
                dir_fd = os.open(self.path.parent, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)
            yield fd
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def append(self, decision: ReviewDecision) -> ReviewDecision:
        """Append one decision if `decision.version` is the sample's current version; else VersionConflict.

        The version of a sample is the number of counted decisions on it, so two annotators who loaded the
        same version cannot both save: the second gets a conflict, never a silent overwrite.
        """
        with self._locked() as fd:
            current = self.read().versions().get(decision.sample_id, 0)
            if decision.version != current:
                raise VersionConflict(decision.sample_id, decision.version, current)
            size = os.fstat(fd).st_size
            if size:
                os.lseek(fd, size - 1, os.SEEK_SET)
                if os.read(fd, 1) != b"\n":  # a torn line from a crash: never glue a record onto it
                    os.write(fd, b"\n")
            line = encode_line(decision)
            pause = float(os.environ.get(FAULT_PAUSE_ENV) or 0)
            if pause:
                _write_all(fd, line[: len(line) // 2])
                os.fsync(fd)
                time.sleep(pause)
                line = line[len(line) // 2 :]
            _write_all(fd, line)
            os.fsync(fd)
        return decision


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
