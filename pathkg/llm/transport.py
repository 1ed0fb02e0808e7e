"""The HTTP transport of the LLM client: HTTP/1.1 keep-alive connections on asyncio, nothing more.

Why not the `openai` package's client, or aiohttp: at the request rates a corpus run needs (over a
thousand requests a second from one event loop, on the cores the rest of the pipeline also uses)
the `openai` client's httpx stack spends milliseconds of CPU per request and aiohttp about 0.3 ms,
more than the rest of a request's path together. An OpenAI-compatible endpoint needs little of
HTTP: a POST of a JSON body and a GET for health, answered with a status, a few headers and a body
(`Content-Length` or chunked). This module does exactly that with one `asyncio.Protocol` per
connection (about a tenth of aiohttp's CPU per request), keeping idle connections per endpoint.
The retry, timeout, cache and token-count policy stays in `pathkg.llm.client`.

Errors are normalised so that the policy does not depend on the transport: `TransportTimeout`
(no complete answer within `timeout_s`, connecting included), `TransportConnectionError` (refused,
reset, closed before the answer was complete; `refused` tells the first apart) and, for any
status, an `HTTPReply` with the status instead of an exception.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_HEAD = 64 * 1024
MAX_BODY = 256 * 1024 * 1024


class TransportTimeout(Exception):
    pass


class TransportConnectionError(Exception):
    def __init__(self, message: str, refused: bool):
        super().__init__(message)
        self.refused = refused  # could not connect at all (nothing listening), not a dropped connection


@dataclass(frozen=True)
class HTTPReply:
    status: int
    headers: dict[str, str]  # lower-case names
    text: str


class _ProtocolError(Exception):
    pass


class _Connection(asyncio.Protocol):
    """One keep-alive connection; at most one request on it at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reusable = True
        self._waiter: asyncio.Future[tuple[int, dict[str, str], bytes]] | None = None
        self._buffer = bytearray()
        self._head: tuple[int, dict[str, str]] | None = None
        self._length: int | None = None  # body length; None: chunked or until the connection closes
        self._chunked = False
        self._chunks = bytearray()

    # --- asyncio.Protocol ---------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._head is not None and self._length is None and not self._chunked:
            self._finish(bytes(self._buffer))  # a body delimited by the end of the connection
        else:
            reason = f": {exc}" if exc else ""
            waiter.set_exception(TransportConnectionError(f"connection closed before the answer{reason}", False))

    def data_received(self, data: bytes) -> None:
        if self._waiter is None or self._waiter.done():
            self.reusable = False  # data nobody asked for: do not reuse this connection
            if self.transport is not None:
                self.transport.close()
            return
        self._buffer += data
        try:
            self._parse()
        except _ProtocolError as exc:
            self.reusable = False
            self._waiter.set_exception(TransportConnectionError(f"malformed HTTP response: {exc}", False))
            if self.transport is not None:
                self.transport.close()

    # --- one exchange ---------------------------------------------------------------------------------
    def send(self, payload: bytes) -> asyncio.Future[tuple[int, dict[str, str], bytes]]:
        assert self.transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self._buffer.clear()
        self._head, self._length, self._chunked = None, None, False
        self._chunks.clear()
        self.transport.write(payload)
        return self._waiter

    def _parse(self) -> None:
        buf = self._buffer
        if self._head is None:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > MAX_HEAD:
                    raise _ProtocolError("header section too long")
                return
            lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
            del buf[: end + 4]
            version, _, rest = lines[0].partition(" ")
            if not version.startswith("HTTP/1.") or not rest[:3].isdigit():
                raise _ProtocolError(f"status line {lines[0][:80]!r}")
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if sep:
                    headers[name.strip().lower()] = value.strip()
            status = int(rest[:3])
            self._head = (status, headers)
            connection = headers.get("connection", "").lower()
            if "close" in connection or (version == "HTTP/1.0" and "keep-alive" not in connection):
                self.reusable = False
            if "chunked" in headers.get("transfer-encoding", "").lower():
                self._chunked = True
            elif "content-length" in headers:
                try:
                    self._length = int(headers["content-length"])
                except ValueError:
                    raise _ProtocolError("bad Content-Length") from None
                if self._length > MAX_BODY:
                    raise _ProtocolError("body too large")
            elif status in (204, 304) or 100 <= status < 200:
                self._length = 0
            else:
                self.reusable = False  # the body ends when the server closes the connection
        if self._chunked:
            self._parse_chunks()
        elif self._length is not None and len(buf) >= self._length:
            body = bytes(buf[: self._length])
            del buf[: self._length]
            self._finish(body)

    def _parse_chunks(self) -> None:
        buf = self._buffer
        while True:
            line_end = buf.find(b"\r\n")
            if line_end < 0:
                return
            try:
                size = int(bytes(buf[:line_end]).split(b";")[0].strip() or b"x", 16)
            except ValueError:
                raise _ProtocolError("bad chunk size") from None
            if size == 0:
                trailer_end = buf.find(b"\r\n\r\n", line_end)
                if buf[line_end : line_end + 4] == b"\r\n\r\n" or trailer_end >= 0:
                    self._finish(bytes(self._chunks))
                return
            if len(buf) < line_end + 2 + size + 2:
                return
            self._chunks += buf[line_end + 2 : line_end + 2 + size]
            del buf[: line_end + 2 + size + 2]
            if len(self._chunks) > MAX_BODY:
                raise _ProtocolError("body too large")

    def _finish(self, body: bytes) -> None:
        assert self._head is not None and self._waiter is not None
        if not self._waiter.done():
            self._waiter.set_result((self._head[0], self._head[1], body))


@dataclass(frozen=True)
class _Origin:
    host: str
    port: int
    tls: bool
    host_header: str


def _origin(url: str) -> tuple[_Origin, str]:
    parts = urlsplit(url)
    tls = parts.scheme == "https"
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if tls else 80)
    default = (tls and port == 443) or (not tls and port == 80)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return _Origin(host, port, tls, host if default else f"{host}:{port}"), target


class HTTPTransport:
    """Create inside the event loop that will use it; `await aclose()` when done."""

    def __init__(self, api_key: str, timeout_s: float):
        # No connection limit here: the endpoint pool bounds requests in flight, one per connection.
        self.timeout_s = timeout_s
        self._auth = f"Authorization: Bearer {api_key}\r\n"
        self._idle: dict[_Origin, deque[_Connection]] = {}
        self._open: set[_Connection] = set()
        self._origins: dict[str, tuple[_Origin, str]] = {}
        self._ssl: ssl.SSLContext | None = None

    def _split(self, url: str) -> tuple[_Origin, str]:
        cached = self._origins.get(url)
        if cached is None:
            cached = self._origins[url] = _origin(url)
        return cached

    async def _connect(self, origin: _Origin) -> _Connection:
        idle = self._idle.get(origin)
        while idle:
            conn = idle.pop()
            if not conn.closed and conn.reusable:
                return conn
            self._drop(conn)
        if origin.tls and self._ssl is None:
            self._ssl = ssl.create_default_context()
        try:
            _, conn = await asyncio.get_running_loop().create_connection(
                _Connection, origin.host, origin.port, ssl=self._ssl if origin.tls else None
            )
        except ConnectionRefusedError as exc:
            raise TransportConnectionError(f"cannot connect to {origin.host_header}: {exc}", True) from None
        except OSError as exc:  # unreachable, DNS, TLS: nothing to talk to either
            raise TransportConnectionError(f"cannot connect to {origin.host_header}: {exc}", True) from None
        self._open.add(conn)
        return conn

    def _drop(self, conn: _Connection) -> None:
        self._open.discard(conn)
        if conn.transport is not None and not conn.closed:
            conn.transport.close()

    async def _exchange(self, method: str, url: str, body: bytes | None, timeout_s: float) -> HTTPReply:
        origin, target = self._split(url)
        head = f"{method} {target} HTTP/1.1\r\nHost: {origin.host_header}\r\n{self._auth}"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        payload = (head + "\r\n").encode("latin-1") + (body or b"")
        try:
            async with asyncio.timeout(timeout_s):
                conn = await self._connect(origin)
                try:
                    status, headers, raw = await conn.send(payload)
                except BaseException:
                    conn.reusable = False
                    self._drop(conn)
                    raise
        except TimeoutError:
            raise TransportTimeout(f"timeout after {timeout_s:g} s") from None
        if conn.reusable and not conn.closed:
            self._idle.setdefault(origin, deque()).append(conn)
        else:
            self._drop(conn)
        return HTTPReply(status, headers, raw.decode("utf-8", "replace"))

    async def post_json(self, url: str, body: bytes) -> HTTPReply:
        return await self._exchange("POST", url, body, self.timeout_s)

    async def get_status(self, url: str, timeout_s: float) -> int | None:
        """The status of `GET url` (a health check), or None when nothing answered within `timeout_s`."""
        try:
            return (await self._exchange("GET", url, None, timeout_s)).status
        except (TransportTimeout, TransportConnectionError):
            return None

    async def get_ok(self, url: str, timeout_s: float) -> bool:
        """True when `GET url` answers 2xx within `timeout_s`."""
        status = await self.get_status(url, timeout_s)
        return status is not None and 200 <= status < 300

    async def aclose(self) -> None:
        for conn in list(self._open):
            self._drop(conn)
        self._idle.clear()
        await asyncio.sleep(0)  # let the transports close
