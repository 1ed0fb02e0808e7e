"""Local executors: in the calling process, or on a pool of worker processes."""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import logging
import multiprocessing as mp
from collections.abc import Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool

from pipelines.executors.base import Outcome, StageFactory, Task, run_task
from pipelines.stage import Stage

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


_WORKER_STAGE: Stage | None = None


def _init_worker(factory: StageFactory) -> None:
    global _WORKER_STAGE
    _WORKER_STAGE = factory()


def _run_chunk(tasks: list[Task]) -> list[Outcome]:
    assert _WORKER_STAGE is not None
    return [run_task(_WORKER_STAGE, t) for t in tasks]


class ProcessPoolExecutor:
    """Runs tasks on `workers` processes, a few chunks in flight at a time.

    If a worker dies (a native library crashing on a corrupt file), the tasks that were in
    flight are rerun one at a time in a fresh single-worker pool, so only the case that
    really kills its worker is recorded as failed and the rest of the stage goes on.
    """

    def __init__(self, workers: int, chunk_size: int = 8, inflight_per_worker: int = 2):
        self.workers = workers
        self.chunk_size = chunk_size
        self.inflight = workers * inflight_per_worker

    def _pool(self, factory: StageFactory, workers: int) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(
            max_workers=workers,
            mp_context=mp.get_context("fork"),
            initializer=_init_worker,
            initargs=(factory,),
        )

    def map(self, factory: StageFactory, tasks: Iterable[Task]) -> Iterator[Outcome]:
        it = iter(tasks)
        chunks = iter(lambda: list(itertools.islice(it, self.chunk_size)), [])
        pool = self._pool(factory, self.workers)
        pending: dict[cf.Future, list[Task]] = {}
        try:
            while True:
                while len(pending) < self.inflight:
                    chunk = next(chunks, None)
                    if chunk is None:
                        break
                    pending[pool.submit(_run_chunk, chunk)] = chunk
                if not pending:
                    return
                done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                broken: list[Task] = []
                for fut in done:
                    chunk = pending.pop(fut)
                    try:
                        yield from fut.result()
                    except BrokenProcessPool:
                        broken.extend(chunk)
                if broken:
                    for chunk in pending.values():
                        broken.extend(chunk)
                    pending.clear()
                    pool.shutdown(wait=False, cancel_futures=True)
                    log.warning("a worker process died; rerunning %d in-flight cases one by one", len(broken))
                    yield from self._isolate(factory, broken)
                    pool = self._pool(factory, self.workers)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _isolate(self, factory: StageFactory, tasks: list[Task]) -> Iterator[Outcome]:
        for task in tasks:
            pool = self._pool(factory, 1)
            try:
                yield from pool.submit(_run_chunk, [task]).result()
            except BrokenProcessPool:
                yield Outcome(
                    task.case_id,
                    task.key,
                    None,
                    ("WorkerCrashed", f"case {task.case_id}: the worker process died while processing it"),
                )
            finally:
                pool.shutdown(wait=True)
