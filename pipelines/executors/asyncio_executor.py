"""Runs an I/O stage's `aprocess` coroutines on an asyncio loop with bounded concurrency.

The loop lives in a background thread so the runner consumes outcomes the same way as from
the process executors, writing parts while requests are still in flight.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Iterable, Iterator

from pipelines.executors.base import Outcome, StageFactory, Task, arun_task

_DONE = object()


class AsyncioExecutor:
    def __init__(self, concurrency: int = 16):
        self.concurrency = concurrency

    def map(self, factory: StageFactory, tasks: Iterable[Task]) -> Iterator[Outcome]:
        out: queue.Queue = queue.Queue(maxsize=self.concurrency * 4)
        stop = threading.Event()

        async def main() -> None:
            stage = factory()
            sem = asyncio.Semaphore(self.concurrency)
            running: set[asyncio.Task] = set()

            async def one(task: Task) -> None:
                try:
                    outcome = await arun_task(stage, task)
                finally:
                    sem.release()
                try:  # the common case: room in the queue, no thread hop
                    out.put_nowait(outcome)
                except queue.Full:  # the consumer is behind: wait for it off the loop
                    await asyncio.to_thread(out.put, outcome)

            try:
                for task in tasks:
                    if stop.is_set():
                        break
                    await sem.acquire()
                    t = asyncio.create_task(one(task))
                    running.add(t)
                    t.add_done_callback(running.discard)
                if running:
                    await asyncio.gather(*running)
            finally:
                await stage.aclose()

        def thread_main() -> None:
            try:
                asyncio.run(main())
            except BaseException as exc:  # surfaced in the consumer thread
                out.put(exc)
            finally:
                out.put(_DONE)

        thread = threading.Thread(target=thread_main, name="pathkg-asyncio", daemon=True)
        thread.start()
        try:
            while True:
                item = out.get()
                if item is _DONE:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            thread.join(timeout=5)
