"""A lean OpenAI-compatible loopback server for throughput benchmarks — a test double, not a model.

`pathkg.llm.loopback_server` (aiohttp, fault injection, a request log) spends about a millisecond
of CPU per request; at the rates the corpus benchmarks ask for (over a thousand requests a second,
on the same two cores as the client) the server itself would be what is measured. This one is a
bare `asyncio.Protocol` speaking just enough HTTP/1.1 (keep-alive, `Content-Length` bodies) to
answer, after a fixed latency:

- `POST /v1/chat/completions`: a fixed, well-formed chain of thought (`--reply chain`) or a fixed
  valid `ReportFields` JSON (`--reply extraction`), with token counts (body length / 4);
- `GET /health`, `GET /v1/models`.

It does not parse the request JSON (the benchmark measures the client). Run it in its own process:
`python -m pathkg.llm.lean_loopback --latency 0.05 --reply chain` prints its base URL and serves
until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time

CHAIN = (
    "<observe>Sheets of atypical cells with marked nuclear pleomorphism; no lymphovascular invasion.</observe>\n"
    "<think>Following the knowledge-graph path, marked nuclear pleomorphism is a component of the Nottingham "
    "grading system, which determines the grade.</think>\n"
    "<answer>Nottingham grade 3.</answer>"
)


def _extraction() -> str:
    from pathkg.llm.loopback_server import LoopbackServer

    return json.dumps(LoopbackServer.answer("lean loopback"))


class _Handler(asyncio.Protocol):
    def __init__(self, server: LeanServer):
        self.server = server
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if len(self.buffer) < end + 4 + length:
                return  # the body is still arriving
            del self.buffer[: end + 4 + length]
            method, path = head.split(b" ", 2)[:2]
            self.server.answer(self, method, path, length)

    def send(self, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(payload)


def _response(status: str, body: bytes) -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: keep-alive\r\n\r\n"
    ).encode() + body


class LeanServer:
    def __init__(self, latency_s: float, reply: str, model: str = "loopback-model"):
        self.latency_s = latency_s
        self.model = model
        self.content = CHAIN if reply == "chain" else _extraction()
        self.requests = 0
        self._head = json.dumps(
            {"object": "chat.completion", "model": model, "choices": [
                {"index": 0, "message": {"role": "assistant", "content": self.content}, "finish_reason": "stop"}]}
        )[:-1]  # fmt: skip
        self._health = _response("200 OK", b'{"status": "ok"}')
        self._models = _response("200 OK", json.dumps({"object": "list", "data": [{"id": model}]}).encode())
        self._missing = _response("404 Not Found", b'{"error": {"message": "not found"}}')

    def answer(self, handler: _Handler, method: bytes, path: bytes, length: int) -> None:
        if method == b"POST" and path.endswith(b"/chat/completions"):
            self.requests += 1
            prompt_tokens, completion_tokens = length // 4, len(self.content) // 4
            body = (
                f'{self._head}, "id": "chatcmpl-{self.requests}", "created": {int(time.time())}, "usage": '
                f'{{"prompt_tokens": {prompt_tokens}, "completion_tokens": {completion_tokens}, '
                f'"total_tokens": {prompt_tokens + completion_tokens}}}}}'
            ).encode()
            payload = _response("200 OK", body)
            if self.latency_s:
                asyncio.get_running_loop().call_later(self.latency_s, handler.send, payload)
            else:
                handler.send(payload)
        elif path == b"/health":
            handler.send(self._health)
        elif path.endswith(b"/models"):
            handler.send(self._models)
        else:
            handler.send(self._missing)

    async def serve(self, host: str, port: int, ready: asyncio.Future[int] | None = None) -> None:
        server = await asyncio.get_running_loop().create_server(
            lambda: _Handler(self), host, port, backlog=4096, reuse_address=True
        )
        bound = server.sockets[0].getsockname()[1]
        if ready is not None:
            ready.set_result(bound)
        else:
            print(f"http://{host}:{bound}/v1", flush=True)
        async with server:
            await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--model", default="loopback-model")
    parser.add_argument("--reply", choices=["chain", "extraction"], default="chain")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(LeanServer(args.latency, args.reply, args.model).serve(args.host, args.port))


if __name__ == "__main__":
    main()
