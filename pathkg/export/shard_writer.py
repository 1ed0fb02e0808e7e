"""Size-bounded Parquet shards named the Hugging Face way: `{split}-00000-of-00003.parquet`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from datasets import Features


class ShardWriter:
    """Buffers rows per split and writes a shard whenever a buffer reaches `max_shard_bytes`.

    Shards are written under provisional names; `finish()` renames them to their final
    `-of-N` names once N is known and returns {split: [files]}.
    """

    def __init__(self, out_dir: Path, features: Features, max_shard_bytes: int):
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.features = features
        self.schema = features.arrow_schema
        self.max_shard_bytes = max_shard_bytes
        self._rows: dict[str, list[dict[str, Any]]] = {}
        self._bytes: dict[str, int] = {}
        self._shards: dict[str, list[Path]] = {}
        self.rows_written: dict[str, int] = {}

    def add(self, split: str, row: dict[str, Any], approx_bytes: int) -> None:
        self._rows.setdefault(split, []).append(row)
        self._bytes[split] = self._bytes.get(split, 0) + approx_bytes
        if self._bytes[split] >= self.max_shard_bytes:
            self._flush(split)

    def _flush(self, split: str) -> None:
        rows = self._rows.pop(split, [])
        self._bytes.pop(split, None)
        if not rows:
            return
        table = pa.Table.from_pylist(rows, schema=self.schema)
        shards = self._shards.setdefault(split, [])
        path = self.out_dir / f"{split}-{len(shards):05d}.parquet.partial"
        pq.write_table(table, path, compression="zstd")
        shards.append(path)
        self.rows_written[split] = self.rows_written.get(split, 0) + len(rows)

    def finish(self) -> dict[str, list[Path]]:
        for split in list(self._rows):
            self._flush(split)
        final: dict[str, list[Path]] = {}
        for split, shards in sorted(self._shards.items()):
            n = len(shards)
            final[split] = []
            for i, path in enumerate(shards):
                target = self.out_dir / f"{split}-{i:05d}-of-{n:05d}.parquet"
                path.rename(target)
                final[split].append(target)
        return final
