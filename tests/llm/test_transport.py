"""The HTTP/1.1 transport against raw servers on loopback that answer the ways real servers do:
`Content-Length` or chunked bodies, keep-alive or `Connection: close`, a connection dropped mid-answer,
an answer that never comes."""

from __future__ import annotations

import asyncio

import pytest

from pathkg.llm.transport import HTTPTransport, TransportConnectionError, TransportTimeout


async def serve(respond) -> tuple[asyncio.AbstractServer, str, list[bytes]]:
    """A raw server: `respond(request_bytes)` returns what to write back (None: hang, b"": close)."""
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n") if not reader.at_eof() else b""
            if not head:
                break
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            request = head + await reader.readexactly(length)
            seen.append(request)
            answer = respond(request)
            if answer is None:
                await asyncio.sleep(10)
            if not answer:
                writer.close()
                return
            writer.write(answer)
            await writer.drain()
            if b"connection: close" in answer.lower() or b"partial" in answer:
                writer.close()
                return

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/v1/chat/completions", seen


def run(coro):
    return asyncio.run(coro)


def test_content_length_and_keep_alive_reuse_one_connection() -> None:
    async def go() -> None:
        body = b'{"ok": true}'
        server, url, seen = await serve(
            lambda r: b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        transport = HTTPTransport("KEY", timeout_s=5)
        replies = [await transport.post_json(url, b'{"n": %d}' % i) for i in range(3)]
        assert [r.text for r in replies] == ['{"ok": true}'] * 3 and all(r.status == 200 for r in replies)
        assert len(transport._open) == 1  # one keep-alive connection for the three requests
        assert seen[0].startswith(b"POST /v1/chat/completions HTTP/1.1\r\n")
        assert b"Authorization: Bearer KEY" in seen[0] and seen[2].endswith(b'{"n": 2}')
        await transport.aclose()
        server.close()

    run(go())


def test_chunked_body_headers_and_connection_close() -> None:
    async def go() -> None:
        answer = (
            b"HTTP/1.1 429 Too Many Requests\r\nTransfer-Encoding: chunked\r\nRetry-After: 3\r\n"
            b"Connection: close\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n"
        )
        server, url, seen = await serve(lambda r: answer)
        transport = HTTPTransport("KEY", timeout_s=5)
        for _ in range(2):  # the second request needs a new connection: the first was closed
            reply = await transport.post_json(url, b"{}")
            assert (reply.status, reply.text, reply.headers["retry-after"]) == (429, "hello, world", "3")
        assert len(seen) == 2
        await transport.aclose()
        server.close()

    run(go())


def test_dropped_connection_timeout_and_refused_are_told_apart() -> None:
    async def go() -> None:
        server, url, _ = await serve(lambda r: b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial" if b"drop" in r
                                     else (None if b"hang" in r else b""))  # fmt: skip
        transport = HTTPTransport("KEY", timeout_s=0.3)
        with pytest.raises(TransportConnectionError) as dropped:
            await transport.post_json(url, b'{"drop": 1}')
        assert not dropped.value.refused
        # (the server wrote 7 of the 100 bytes it announced, then closed the connection)
        with pytest.raises(TransportTimeout, match=r"timeout after 0\.3 s"):
            await transport.post_json(url, b'{"hang": 1}')
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        with pytest.raises(TransportConnectionError) as refused:
            await transport.post_json(f"http://127.0.0.1:{port}/v1/chat/completions", b"{}")
        assert refused.value.refused
        assert await transport.get_ok(f"http://127.0.0.1:{port}/health", timeout_s=0.5) is False
        await transport.aclose()

    run(go())
