"""AtomicBatch: files appear whole on commit; an exception leaves neither targets nor temporaries."""

from __future__ import annotations

import pytest

from pathkg.io.atomic import TMP_MARK, remove_stale_temporaries
from pathkg.io.atomic_batch import AtomicBatch


def test_commit_writes_every_file(tmp_path):
    with AtomicBatch() as batch:
        for i in range(10):
            batch.write_bytes(tmp_path / "d" / f"{i}.bin", bytes([i]) * (i + 1))
        # Until the commit only temporaries exist: no target is visible half-written or early.
        assert len(list((tmp_path / "d").glob(f"*{TMP_MARK}*"))) == 10
        assert not (tmp_path / "d" / "0.bin").exists()
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == sorted(f"{i}.bin" for i in range(10))
    assert (tmp_path / "d" / "9.bin").read_bytes() == b"\x09" * 10
    assert len(batch.written) == 10


def test_exception_aborts_and_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), AtomicBatch() as batch:
        batch.write_bytes(tmp_path / "a.bin", b"x")
        raise RuntimeError("tile decode failed")
    assert list(tmp_path.iterdir()) == []


def test_killed_writer_temporaries_are_cleaned(tmp_path):
    batch = AtomicBatch()
    batch.write_bytes(tmp_path / "a.bin", b"x")  # never committed: as if the process died here
    assert not (tmp_path / "a.bin").exists()
    assert remove_stale_temporaries(tmp_path) == 1
    batch.abort()
