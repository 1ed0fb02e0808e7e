"""Local executors: in the calling process, or on a pool of worker processes."""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import logging
import multiprocessing as mp
from collections.abc import Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool

from pipelines.executors.base import ChunkSizer, Outcome, PackedChunk, StageFactory, StageHolder, Task, run_task

log = logging.getLogger(__name__)


class InlineExecutor:
    """Runs tasks one after another in this process (workers = 1; easiest to debug)."""

    def map(self, factory: StageFactory, tasks: Iterable[Task]) -> Iterator[Outcome]:
        stage = factory()
        try:
            for task in tasks:
                yield run_task(stage, task)
        finally:
            stage.close()


_HOLDER = StageHolder()


def _run_chunk(factory: StageFactory, tasks: list[Task]) -> PackedChunk:
    return _HOLDER.run_packed(factory, tasks)


class ProcessPoolExecutor:
    """Runs tasks on `workers` processes, a few chunks in flight at a time.

    The pool lives until `close()`, so a runner keeps one set of workers for the whole run: each
    stage is built once per worker, and what a stage loads per process (spaCy, a KG linker) is
    loaded once per run, not once per stage.

    If a worker dies (a native library crashing on a corrupt file), the tasks that were in
    flight are rerun one at a time in a fresh single-worker pool, so only the case that
    really kills its worker is recorded as failed and the rest of the stage goes on.
    """

    def __init__(self, workers: int, chunk_size: int = 8, inflight_per_worker: int = 3):
        self.workers = workers
        self.chunk_size = chunk_size  # the first chunks of each stage; then sized by ChunkSizer
        self.inflight = workers * inflight_per_worker
        self._live: cf.ProcessPoolExecutor | None = None

    def _pool(self, workers: int) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork"))

    def close(self) -> None:
        """Stop the worker processes (a later `map` starts new ones)."""
        if self._live is not None:
            self._live.shutdown(wait=True, cancel_futures=True)
            self._live = None

    def map(self, factory: StageFactory, tasks: Iterable[Task]) -> Iterator[Outcome]:
        it = iter(tasks)
        sizer = ChunkSizer(self.chunk_size)
        chunks = iter(lambda: list(itertools.islice(it, sizer.size)), [])
        if self._live is None:
            self._live = self._pool(self.workers)
        pool = self._live
        pending: dict[cf.Future, list[Task]] = {}
        try:
            while True:
                while len(pending) < self.inflight:
                    chunk = next(chunks, None)
                    if chunk is None:
                        break
                    pending[pool.submit(_run_chunk, factory, chunk)] = chunk
                if not pending:
                    return
                done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                broken: list[Task] = []
                for fut in done:
                    chunk = pending.pop(fut)
                    try:
                        packed = fut.result()
                    except BrokenProcessPool:
                        broken.extend(chunk)
                        continue
                    sizer.observe(len(chunk), packed.seconds)
                    yield from packed.unpack()
                if broken:
                    for chunk in pending.values():
                        broken.extend(chunk)
                    pending.clear()
                    pool.shutdown(wait=False, cancel_futures=True)
                    self._live = None
                    log.warning("a worker process died; rerunning %d in-flight cases one by one", len(broken))
                    yield from self._isolate(factory, broken)
                    pool = self._live = self._pool(self.workers)
        except BaseException:
            # Interrupted (an error in the consumer, a closed generator): do not leave work running.
            for fut in pending:
                fut.cancel()
            raise

    def _isolate(self, factory: StageFactory, tasks: list[Task]) -> Iterator[Outcome]:
        for task in tasks:
            pool = self._pool(1)
            try:
                yield from pool.submit(_run_chunk, factory, [task]).result().unpack()
            except BrokenProcessPool:
                yield Outcome(
                    task.case_id,
                    task.key,
                    None,
                    ("WorkerCrashed", f"case {task.case_id}: the worker process died while processing it"),
                )
            finally:
                pool.shutdown(wait=True)
