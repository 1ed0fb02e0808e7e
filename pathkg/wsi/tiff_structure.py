"""A structural check of a TIFF file (classic and BigTIFF): does every directory and data chunk lie
inside the file? Used to say *why* OpenSlide refused a file: truncated, or a plain image.

Only the directory chain and the strip / tile offset tables are read, never the pixel data, so
the check is cheap on multi-gigabyte slides.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8}
_INT_DTYPES = {3: "u2", 4: "u4", 13: "u4", 16: "u8", 18: "u8"}
_WIDTH = 256
_HEIGHT = 257
_STRIP_OFFSETS = 273
_STRIP_COUNTS = 279
_TILE_WIDTH = 322
_TILE_OFFSETS = 324
_TILE_COUNTS = 325
#: The tags whose values the check needs.
_WANTED = {_WIDTH, _HEIGHT, _STRIP_OFFSETS, _STRIP_COUNTS, _TILE_WIDTH, _TILE_OFFSETS, _TILE_COUNTS}
_MAX_PAGES = 10_000


@dataclass(frozen=True)
class TiffPage:
    width: int | None
    height: int | None
    tiled: bool
    chunks: int


@dataclass
class TiffLayout:
    """What the directory chain holds; `problem` says what is wrong with it (None: intact)."""

    bigtiff: bool
    file_size: int
    pages: list[TiffPage] = field(default_factory=list)
    problem: str | None = None

    @property
    def any_tiled(self) -> bool:
        return any(p.tiled for p in self.pages)


def is_tiff(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(4)
    return head in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def read_tiff_layout(path: Path) -> TiffLayout:
    """Walk the IFD chain of a TIFF file. Raises ValueError if the file is not a TIFF at all."""
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(16)
        if len(head) < 8 or head[:2] not in (b"II", b"MM"):
            raise ValueError(f"{path} is not a TIFF file")
        order = "<" if head[:2] == b"II" else ">"
        (magic,) = struct.unpack(order + "H", head[2:4])
        if magic not in (42, 43):
            raise ValueError(f"{path} is not a TIFF file (magic {magic})")
        bigtiff = magic == 43
        layout = TiffLayout(bigtiff=bigtiff, file_size=size)
        if bigtiff and len(head) < 16:
            layout.problem = f"the file ends inside its {len(head)}-byte BigTIFF header"
            return layout
        offset = struct.unpack(order + "Q", head[8:16])[0] if bigtiff else struct.unpack(order + "I", head[4:8])[0]
        seen: set[int] = set()
        while offset:
            if offset in seen:
                layout.problem = f"directory chain loops back to offset {offset}"
                return layout
            if len(layout.pages) >= _MAX_PAGES:
                layout.problem = f"more than {_MAX_PAGES} directories"
                return layout
            seen.add(offset)
            try:
                page, offset = _read_ifd(fh, order, bigtiff, offset, size, len(layout.pages))
            except _Damaged as exc:
                layout.problem = str(exc)
                return layout
            layout.pages.append(page)
        if not layout.pages:
            layout.problem = "the file has no image directory"
    return layout


class _Damaged(Exception):
    pass


def _read_exact(fh: BinaryIO, offset: int, n: int, size: int, what: str) -> bytes:
    if offset + n > size:
        raise _Damaged(f"{what} at bytes {offset}..{offset + n} lies beyond the end of the {size}-byte file")
    fh.seek(offset)
    return fh.read(n)


def _read_ifd(fh: BinaryIO, order: str, bigtiff: bool, offset: int, size: int, index: int) -> tuple[TiffPage, int]:
    where = f"image directory {index}"
    count_fmt, entry_size, off_fmt = ("Q", 20, "Q") if bigtiff else ("H", 12, "I")
    count_size = struct.calcsize(count_fmt)
    (n,) = struct.unpack(order + count_fmt, _read_exact(fh, offset, count_size, size, where))
    body = _read_exact(fh, offset + count_size, n * entry_size + struct.calcsize(off_fmt), size, where)
    inline = 8 if bigtiff else 4
    values: dict[int, np.ndarray] = {}
    for i in range(n):
        entry = body[i * entry_size : (i + 1) * entry_size]
        if bigtiff:
            tag, typ, cnt = struct.unpack(order + "HHQ", entry[:12])
            raw = entry[12:20]
        else:
            tag, typ, cnt = struct.unpack(order + "HHI", entry[:8])
            raw = entry[8:12]
        nbytes = _TYPE_SIZES.get(typ, 1) * cnt
        if nbytes > inline:
            (data_off,) = struct.unpack(order + off_fmt, raw)
            if data_off + nbytes > size:
                raise _Damaged(
                    f"{where}: tag {tag} points to bytes {data_off}..{data_off + nbytes}, "
                    f"beyond the end of the {size}-byte file"
                )
            if tag in _WANTED:
                fh.seek(data_off)
                raw = fh.read(nbytes)
        if typ in _INT_DTYPES and tag in _WANTED:
            dtype = np.dtype(_INT_DTYPES[typ]).newbyteorder(order)
            values[tag] = np.frombuffer(raw[: dtype.itemsize * cnt], dtype=dtype, count=cnt).astype(np.int64)
    (next_offset,) = struct.unpack(order + off_fmt, body[n * entry_size :])
    tiled = _TILE_OFFSETS in values or _TILE_WIDTH in values
    offsets = values.get(_TILE_OFFSETS if tiled else _STRIP_OFFSETS)
    counts = values.get(_TILE_COUNTS if tiled else _STRIP_COUNTS)
    chunks = 0
    if offsets is not None and counts is not None:
        if len(offsets) != len(counts):
            raise _Damaged(f"{where}: {len(offsets)} data offsets but {len(counts)} byte counts")
        chunks = len(offsets)
        if chunks:
            ends = offsets + counts
            worst = int(np.argmax(ends))
            if int(ends[worst]) > size:
                kind = "tile" if tiled else "strip"
                missing = int((ends > size).sum())
                raise _Damaged(
                    f"{where}: {missing} of {chunks} {kind}s lie beyond the end of the {size}-byte file "
                    f"({kind} {worst} ends at byte {int(ends[worst])})"
                )
    width = int(values[_WIDTH][0]) if _WIDTH in values and len(values[_WIDTH]) else None
    height = int(values[_HEIGHT][0]) if _HEIGHT in values and len(values[_HEIGHT]) else None
    if width is None or height is None or not chunks:
        missing = [n for n, v in (("width", width), ("height", height)) if v is None] + (
            [] if chunks else ["pixel data"]
        )
        raise _Damaged(f"{where} has no {', no '.join(missing)}")
    if next_offset and next_offset >= size:
        raise _Damaged(f"{where}: the next directory offset {next_offset} lies beyond the end of the {size}-byte file")
    return TiffPage(width, height, tiled, chunks), next_offset
