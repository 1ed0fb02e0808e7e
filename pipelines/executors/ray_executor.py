"""Ray executor: a stage's cases on long-lived Ray actors, on this machine or across a cluster.

`pathkg run CONFIG --executor ray [--ray-address ADDR]`. Each actor builds a stage once and keeps
it for every chunk of that stage (spaCy models, KG handles load once per worker), and the actors
live for the whole run, so a pipeline pays Ray's worker start-up once, not once per stage.

The runner stays the only writer of the run directory: actors return Outcomes, the driver commits
them in atomic parts. If the driver is killed, Ray tears down its (non-detached) actors and the
next run redoes exactly the cases that were not committed: resume is the same as with the local
process pool.

A worker that dies mid-chunk (killed, out of memory, a native crash) loses no case: the actor is
replaced and the chunk's cases are resubmitted one at a time on an otherwise idle actor, so the
death of a lone case is attributable to it. A case that kills its worker `solo_attempts` times
running alone is recorded as failed (`WorkerCrashed`), like the process pool's isolation.
"""

from __future__ import annotations

import collections
import itertools
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pipelines.executors.base import ChunkSizer, Outcome, StageFactory, StageHolder, Task

log = logging.getLogger(__name__)


def _ray() -> Any:
    """Import Ray only when the Ray executor is asked for (it lives in the `ray` extra)."""
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise RuntimeError("the Ray executor needs Ray: pip install 'pathkg[ray]'") from exc
    return ray


def ensure_ray(address: str | None, num_cpus: int) -> bool:
    """Connect to `address`, or start a local Ray instance with `num_cpus`; True if this call started it.

    A local instance listens on loopback only and starts no dashboard. If Ray is already
    initialised in this process (a test session, a notebook), it is used as it is.
    """
    ray = _ray()
    if ray.is_initialized():
        return False
    if address:
        ray.init(address=address, log_to_driver=True)
    else:
        ray.init(
            num_cpus=num_cpus,
            include_dashboard=False,
            _node_ip_address="127.0.0.1",
            log_to_driver=True,
            configure_logging=False,
        )
    return True


class StageWorker(StageHolder):
    """The body of one Ray actor: builds each stage it is given once and runs chunks of cases on it."""

    def pid(self) -> int:
        return os.getpid()


@dataclass
class _Slot:
    """One actor and the chunks it has in flight."""

    actor: Any
    pid: int = 0
    inflight: int = 0
    solo: bool = False  # running a lone case whose crash would be attributed to it
    generation: int = 0  # bumped when the actor is replaced, so late errors from the old one are ignored


@dataclass
class _Work:
    tasks: list[Task]
    solo: bool
    slot: int
    generation: int
    pending: Any = field(default=None)


class RayExecutor:
    """Runs chunks of a stage's tasks on `workers` Ray actors, a few chunks in flight per actor."""

    def __init__(
        self,
        workers: int,
        address: str | None = None,
        chunk_size: int = 8,
        inflight_per_worker: int = 2,
        solo_attempts: int = 2,
        cpus_per_worker: float = 1.0,
    ):
        self.workers = workers
        self.address = address
        self.chunk_size = chunk_size
        self.inflight_per_worker = inflight_per_worker
        self.solo_attempts = solo_attempts
        self.cpus_per_worker = cpus_per_worker
        self._slots: list[_Slot] = []
        self._started_ray = False
        self._actor_cls: Any = None
        #: How many workers died under this executor (each one replaced).
        self.worker_deaths = 0
        #: Called after each chunk is submitted, with the stage's name and the actor's process id
        #: (tests use it to kill a worker mid-stage).
        self.on_submit: Callable[[str, int], None] | None = None

    # --- actors ----------------------------------------------------------------------
    def _new_actor(self) -> Any:
        if self._actor_cls is None:
            self._started_ray = ensure_ray(self.address, self.workers) or self._started_ray
            self._actor_cls = _ray().remote(num_cpus=self.cpus_per_worker, max_restarts=0)(StageWorker)
        return self._actor_cls.remote()

    def _ensure_actors(self) -> None:
        new = [_Slot(self._new_actor()) for _ in range(self.workers - len(self._slots))]
        for slot, pid in zip(new, _ray().get([s.actor.pid.remote() for s in new]), strict=True):
            slot.pid = pid
        self._slots.extend(new)

    def _replace(self, index: int) -> None:
        old = self._slots[index]
        _ray().kill(old.actor, no_restart=True)
        slot = _Slot(self._new_actor(), generation=old.generation + 1)
        slot.pid = _ray().get(slot.actor.pid.remote())
        self._slots[index] = slot
        self.worker_deaths += 1

    def actor_pids(self) -> list[int]:
        """The process id of every live actor (for tests and diagnostics)."""
        self._ensure_actors()
        return [s.pid for s in self._slots]

    def close(self) -> None:
        """Stop the actors, and the local Ray instance if this executor started it."""
        if not self._slots and not self._started_ray:
            return
        ray = _ray()
        for slot in self._slots:
            ray.kill(slot.actor, no_restart=True)
        self._slots.clear()
        if self._started_ray:
            ray.shutdown()
            self._started_ray = False
        self._actor_cls = None

    # --- running ---------------------------------------------------------------------
    def map(self, factory: StageFactory, tasks: Iterable[Task]) -> Iterator[Outcome]:
        ray = _ray()
        from ray.exceptions import RayActorError, WorkerCrashedError

        self._ensure_actors()
        it = iter(tasks)
        sizer = ChunkSizer(self.chunk_size)
        chunks = iter(lambda: list(itertools.islice(it, sizer.size)), [])
        factory_ref = ray.put(factory)
        solo_queue: collections.deque[Task] = collections.deque()
        crashes: collections.Counter[str] = collections.Counter()
        running: dict[Any, _Work] = {}
        exhausted = False

        def submit(work: _Work) -> None:
            slot = self._slots[work.slot]
            slot.inflight += 1
            slot.solo = work.solo
            work.generation = slot.generation
            ref = slot.actor.run_packed.remote(factory_ref, work.tasks)
            running[ref] = work
            if self.on_submit is not None:
                self.on_submit(factory.context.stage_name, slot.pid)

        try:
            while True:
                # Lone cases go first, each to an idle actor, so a crash is theirs alone.
                for index, slot in enumerate(self._slots):
                    if solo_queue and slot.inflight == 0:
                        submit(_Work([solo_queue.popleft()], True, index, slot.generation))
                while not exhausted and not solo_queue:
                    limit = self.inflight_per_worker
                    free = [i for i, s in enumerate(self._slots) if not s.solo and s.inflight < limit]
                    if not free:
                        break
                    chunk = next(chunks, None)
                    if chunk is None:
                        exhausted = True
                        break
                    index = min(free, key=lambda i: self._slots[i].inflight)
                    submit(_Work(chunk, False, index, self._slots[index].generation))
                if not running:
                    if solo_queue:
                        continue
                    return
                ready, _ = ray.wait(list(running), num_returns=1)
                ref = ready[0]
                work = running.pop(ref)
                slot = self._slots[work.slot]
                current = slot.generation == work.generation
                if current:
                    slot.inflight -= 1
                    if work.solo:
                        slot.solo = False
                try:
                    packed = ray.get(ref)
                except (RayActorError, WorkerCrashedError) as exc:
                    if current:
                        log.warning("a Ray worker died (%s); replacing it", type(exc).__name__)
                        self._replace(work.slot)
                        # Every other chunk on that actor is lost with it: resubmit their cases.
                        for other_ref, other in list(running.items()):
                            if other.slot == work.slot and other.generation == work.generation:
                                running.pop(other_ref)
                                yield from self._requeue(other, solo_queue, crashes)
                    yield from self._requeue(work, solo_queue, crashes)
                    continue
                sizer.observe(len(work.tasks), packed.seconds)
                yield from packed.unpack()
        finally:
            for ref in running:
                ray.cancel(ref, force=False)

    def _requeue(
        self, work: _Work, solo_queue: collections.deque[Task], crashes: collections.Counter[str]
    ) -> Iterator[Outcome]:
        if not work.solo:
            log.warning("rerunning %d case(s) of the lost chunk one by one", len(work.tasks))
            solo_queue.extend(work.tasks)
            return
        (task,) = work.tasks
        crashes[task.key] += 1
        if crashes[task.key] >= self.solo_attempts:
            yield Outcome(
                task.case_id,
                task.key,
                None,
                ("WorkerCrashed", f"case {task.case_id}: the Ray worker died each time it processed it"),
            )
        else:
            solo_queue.append(task)
