"""Size-bounded Parquet shards named the Hugging Face way: `{split}-00000-of-00003.parquet`."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from datasets import Features


class ShardWriter:
    """Streams tables per split into shards, starting a new shard when one reaches `max_shard_bytes`.

    Rows are buffered only up to `row_group_bytes` and then appended to the open shard as one
    Parquet row group, so memory stays flat however large the corpus (the shard boundaries are
    the same as if each shard were written at once). Shards are written under provisional
    names; `finish()` renames them to their final `-of-N` names once N is known and returns
    {split: [files]}.
    """

    def __init__(self, out_dir: Path, features: Features, max_shard_bytes: int, row_group_bytes: int = 16 * 2**20):
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.features = features
        self.schema = features.arrow_schema
        self.max_shard_bytes = max_shard_bytes
        self.row_group_bytes = min(row_group_bytes, max_shard_bytes)
        self._rows: dict[str, list[pa.Table]] = {}  # buffered, not yet written
        self._bytes: dict[str, int] = {}  # of the open shard, written or buffered
        self._buffered: dict[str, int] = {}
        self._open: dict[str, pq.ParquetWriter] = {}
        self._shards: dict[str, list[Path]] = {}
        self.rows_written: dict[str, int] = {}

    def add_table(self, split: str, table: pa.Table, approx_bytes: list[int]) -> None:
        """Append `table`'s rows to `split`; `approx_bytes[i]` is what row i weighs for shard boundaries."""
        start = 0
        for i, size in enumerate(approx_bytes):
            self._bytes[split] = self._bytes.get(split, 0) + size
            self._buffered[split] = self._buffered.get(split, 0) + size
            full = self._bytes[split] >= self.max_shard_bytes
            if full or self._buffered[split] >= self.row_group_bytes:
                self._rows.setdefault(split, []).append(table.slice(start, i + 1 - start))
                start = i + 1
                if full:
                    self._flush(split)
                else:
                    self._write_group(split)
        if start < table.num_rows:
            self._rows.setdefault(split, []).append(table.slice(start))

    def _write_group(self, split: str) -> None:
        tables = self._rows.pop(split, [])
        self._buffered.pop(split, None)
        rows = sum(t.num_rows for t in tables)
        if not rows:
            return
        writer = self._open.get(split)
        if writer is None:
            shards = self._shards.setdefault(split, [])
            path = self.out_dir / f"{split}-{len(shards):05d}.parquet.partial"
            writer = self._open[split] = pq.ParquetWriter(path, self.schema, compression="zstd")
            shards.append(path)
        writer.write_table(pa.concat_tables(tables).combine_chunks())
        self.rows_written[split] = self.rows_written.get(split, 0) + rows

    def _flush(self, split: str) -> None:
        """Close the split's open shard (the next row starts a new one)."""
        self._write_group(split)
        self._bytes.pop(split, None)
        writer = self._open.pop(split, None)
        if writer is not None:
            writer.close()

    def finish(self) -> dict[str, list[Path]]:
        for split in list(self._rows) + list(self._open):
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
