"""On-disk cache of LLM responses, keyed by model + messages + request parameters.

Append-only segment files: `<dir>/segments/<host>-<pid>-<random>.jsonl`, one line per answered
request (`{"k": key, "e": entry}`) or per forgotten one (`{"k": key, "forget": true}`), written with
one `write` on a file opened for appending. Each process (a pipeline worker, a Ray actor) appends to
its own segment, so writers never share a file; on start the cache indexes every segment (keys and
offsets only, the entries stay on disk). A killed run leaves at most a torn last line, which the
index skips: that request is asked again, nothing else is lost. (One file per response, as before,
cost a file creation per request: at a thousand requests a second that was a quarter of the CPU of
the whole request path.) Entries of the earlier layout, `<dir>/<key[:2]>/<key>.json`, are still read.

Only answered requests are stored (an HTTP error is not an answer); an answer that fails validation
is stored too (its repair request then replays as well), but when the repair fails as well the
extractor forgets both, so a retry of that case asks again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import socket
from pathlib import Path
from typing import Any

_PREFIX = b'{"k": "'  # every line starts with the key, so the index never parses a whole entry
_FORGET = b', "forget": true}\n'


def cache_key(model: str, messages: list[dict[str, str]], params: dict[str, Any]) -> str:
    payload = json.dumps({"model": model, "messages": messages, "params": params}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class ResponseCache:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.segments = self.directory / "segments"
        self.segments.mkdir(parents=True, exist_ok=True)
        self.hits = 0
        self.misses = 0
        # key -> (file, offset, length) of its line in a segment, or (file, -1, -1) for a legacy file
        self._index: dict[str, tuple[str, int, int]] = {}
        self._readers: dict[str, int] = {}
        self._load()
        name = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}.jsonl"
        self._own = str(self.segments / name)
        self._fd: int | None = None
        self._offset = 0

    # --- index ----------------------------------------------------------------------------------
    def _load(self) -> None:
        for sub in sorted(self.directory.glob("??")):  # the earlier one-file-per-entry layout
            for path in sub.glob("*.json"):
                self._index[path.stem] = (str(path), -1, -1)
        for segment in sorted(self.segments.glob("*.jsonl")):
            data = segment.read_bytes()
            offset = 0
            while offset < len(data):
                end = data.find(b"\n", offset)
                if end < 0:
                    break  # a torn last line (the writer was killed mid-write): not an entry
                line = data[offset : end + 1]
                key_end = line.find(b'"', len(_PREFIX)) if line.startswith(_PREFIX) else -1
                if key_end > 0:
                    key = line[len(_PREFIX) : key_end].decode("utf-8", "replace")
                    if line.endswith(_FORGET):
                        self._index.pop(key, None)
                    else:
                        self._index[key] = (str(segment), offset, len(line))
                offset = end + 1

    def __len__(self) -> int:
        return len(self._index)

    # --- reading ----------------------------------------------------------------------------------
    def get(self, key: str) -> dict[str, Any] | None:
        where = self._index.get(key)
        if where is None:
            self.misses += 1
            return None
        try:
            entry = self._read(*where)
        except (OSError, ValueError, KeyError, TypeError):  # unreadable: a miss, the answer gets rewritten
            self.misses += 1
            return None
        self.hits += 1
        return entry

    def _read(self, path: str, offset: int, length: int) -> dict[str, Any]:
        if offset < 0:
            with open(path, "rb") as fh:
                return json.loads(fh.read())
        fd = self._readers.get(path)
        if fd is None:
            fd = self._readers[path] = os.open(path, os.O_RDONLY)
        line = os.pread(fd, length, offset)
        entry = json.loads(line)["e"]
        if not isinstance(entry, dict):
            raise TypeError("cache entry is not an object")
        return entry

    # --- writing ----------------------------------------------------------------------------------
    def _append(self, line: bytes) -> int:
        if self._fd is None:
            self._fd = os.open(self._own, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        offset = self._offset
        view = memoryview(line)
        while view:  # one write in practice; the loop only guards a short write
            view = view[os.write(self._fd, view) :]
        self._offset += len(line)
        return offset

    def put(self, key: str, entry: dict[str, Any]) -> None:
        # No fsync: losing the last entries to a power cut costs their requests, not correctness.
        line = f'{{"k": "{key}", "e": {json.dumps(entry)}}}\n'.encode()
        self._index[key] = (self._own, self._append(line), len(line))

    def forget(self, key: str) -> None:
        where = self._index.pop(key, None)
        if where is None:
            return
        if where[1] < 0:
            Path(where[0]).unlink(missing_ok=True)
        else:
            self._append(f'{{"k": "{key}", "forget": true}}\n'.encode())

    def close(self) -> None:
        for fd in [self._fd, *self._readers.values()]:
            if fd is not None:
                os.close(fd)
        self._fd, self._readers = None, {}

    def __del__(self) -> None:
        with contextlib.suppress(OSError):
            self.close()
