"""The stage runner: runs a pipeline's stages in order over every case, resumably.

For each stage and case it computes a content key (inputs + parameters + code version); a
case whose key is already in a committed part is skipped, one whose key failed before is
left failed until `retry`, everything else is executed. Results are committed in atomic
Parquet parts every `flush_every` cases or `flush_seconds`, so a kill loses at most the
uncommitted batch, which the next run redoes: no row lost, none duplicated.
"""

from __future__ import annotations

import collections
import hashlib
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from pathkg.io.atomic import remove_stale_temporaries
from pathkg.io.location import Location
from pipelines.config import PipelineConfig, ResolvedStage, parse_config
from pipelines.content_key import code_version_of, content_key, downstream_key, key_params_json
from pipelines.executors import (
    AsyncioExecutor,
    InlineExecutor,
    Outcome,
    ProcessPoolExecutor,
    StageFactory,
    Task,
)
from pipelines.run_manifest import RunManifest, now
from pipelines.stage import StageContext
from pipelines.store import (
    KEY_COL,
    CaseResult,
    LedgerEntry,
    StageStore,
    StoredInput,
    UpstreamRecords,
    make_failure,
)

log = logging.getLogger("pathkg.runner")


#: The case id of a run-scope stage's single item.
RUN_CASE_ID = "__run__"
#: Side-output folders copied to a run directory that is an fsspec URL, at the end of each run.
UPLOADED_FOLDERS = ("export", "report", "review")
#: Where CPU stages run: `local` (this process, or a process pool when workers > 1) or `ray`.
EXECUTORS = ("local", "ray")


class StagePlanError(RuntimeError):
    """A stage cannot even list its cases (e.g. its manifest is missing)."""


@dataclass
class StageStatus:
    stage: str
    total: int = 0
    done: int = 0
    failed: int = 0
    pending: int = 0
    blocked: int = 0  # waiting on an upstream stage that has not finished the case
    # What this invocation did (zero for `status`).
    ran: int = 0
    skipped: int = 0
    newly_failed: int = 0
    seconds: float = 0.0
    failure_types: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PlannedCase:
    case_id: str
    key: str
    upstream: tuple[LedgerEntry, ...] = ()  # downstream stages: the inputs' entries
    payload: Any = None  # source stages: what plan_source() found
    plan_error: tuple[str, str] | None = None


class Runner:
    def __init__(
        self,
        config: PipelineConfig,
        run_dir: Path | str,
        *,
        workers: int | None = None,
        console: Console | None = None,
        show_progress: bool = True,
        config_path: str | None = None,
        executor: str = "local",
        ray_address: str | None = None,
        local_dir: Path | None = None,
    ):
        if executor not in EXECUTORS:
            raise ValueError(f"unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}")
        self.config = config
        self.executor_name = executor
        self.ray_address = ray_address
        self._ray_executor: Any = None
        self._pool: ProcessPoolExecutor | None = None
        # Parts, failures and the manifest live at `location` (a path or an fsspec URL); the files
        # stages write beside their records (KG database, tiles, export, report) need a local
        # directory: the run directory itself when it is local, else `local_dir` (a cache by
        # default), whose export/, report/ and review/ are uploaded to the URL after each run.
        self.location = Location.of(run_dir)
        if self.location.local is not None:
            self.run_dir = self.location.local
        else:
            self.run_dir = Path(local_dir) if local_dir else default_local_dir(self.location.url)
        self.workers = workers or config.run.workers
        self.console = console or Console(stderr=True)
        self.show_progress = show_progress
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.location.makedirs()
        self.manifest = RunManifest.open(self.location, config.text, config.base_dir, config_path)
        # What run-scope stages (a run report) may read about the stages before them.
        self._run_extras: dict[str, Any] = {"stage_status": [], "failures": []}
        self.stores = {s.name: StageStore(self.location, s.name, s.cls.output_model) for s in config.stages}

    @classmethod
    def from_run_dir(cls, run_dir: Path | str, **kwargs: Any) -> Runner:
        """Reopen a run with the config it was last run with (for status and retry)."""
        manifest = RunManifest.load(run_dir)
        cfg = manifest.data["config"]
        config = parse_config(cfg["text"], base_dir=Path(cfg["base_dir"]), origin=cfg.get("path") or "<run>")
        return cls(config, run_dir, config_path=cfg.get("path"), **kwargs)

    @property
    def ray_executor(self) -> Any:
        """The Ray executor of this runner: one set of actors per run, shared by every CPU stage."""
        if self._ray_executor is None:
            from pipelines.executors.ray_executor import RayExecutor

            self._ray_executor = RayExecutor(self.workers, address=self.ray_address)
        return self._ray_executor

    # --- planning --------------------------------------------------------------------
    def _context(self, stage: ResolvedStage) -> StageContext:
        extras = dict(self._run_extras) if stage.cls.scope == "run" else {}
        return StageContext(self.run_dir.resolve(), self.manifest.run_id, stage.name, extras)

    def _params_json(self, stage: ResolvedStage) -> str:
        return key_params_json(stage.params, stage.cls.key_exclude)

    def _plan_source(self, stage: ResolvedStage) -> list[PlannedCase]:
        instance = stage.cls(stage.params, self._context(stage))
        version, params = code_version_of(stage.cls), self._params_json(stage)
        planned = []
        try:
            for item in instance.plan_source():
                key = content_key(stage.name, version, params, item.fingerprint)
                planned.append(PlannedCase(item.case_id, key, payload=item.payload, plan_error=item.error))
        except (OSError, ValueError) as exc:
            # The source as a whole is unreadable (no manifest, no folder): nothing to run.
            raise StagePlanError(f"stage {stage.name}: {type(exc).__name__}: {exc}") from exc
        finally:
            instance.close()
        return planned

    def _plan_downstream(
        self, stage: ResolvedStage, universe: list[str], current: dict[str, dict[str, LedgerEntry]]
    ) -> tuple[list[PlannedCase], int]:
        version, params = code_version_of(stage.cls), self._params_json(stage)
        planned, blocked = [], 0
        for case_id in universe:
            entries = []
            for up in stage.after:
                # A run-scope upstream (the KG) has one record that every case reads.
                entry = current[up].get(case_id) or current[up].get(RUN_CASE_ID)
                if entry is None:
                    break
                entries.append(entry)
            else:
                upstream = [(up, e.key) for up, e in zip(stage.after, entries, strict=True)]
                key = downstream_key(stage.name, version, params, upstream)
                planned.append(PlannedCase(case_id, key, tuple(entries)))
                continue
            blocked += 1
        return planned, blocked

    def _plan_run_scope(self, stage: ResolvedStage, current: dict[str, dict[str, LedgerEntry]]) -> PlannedCase:
        """One item for the whole run, keyed by every current upstream key."""
        grouped = {up: sorted(current[up].values(), key=lambda e: e.case_id) for up in stage.after}
        inputs: list[Any] = [(up, e.case_id, e.key) for up, entries in grouped.items() for e in entries]
        fingerprint = stage.cls(stage.params, self._context(stage)).fingerprint()
        if not stage.after:
            inputs = [fingerprint]
        elif fingerprint is not None:  # inputs beside the upstreams, e.g. the review decisions an export reads
            inputs.append(("fingerprint", fingerprint))
        key = content_key(stage.name, code_version_of(stage.cls), self._params_json(stage), inputs)
        return PlannedCase(RUN_CASE_ID, key, payload=grouped)

    def _plan(
        self, stage: ResolvedStage, universe: list[str], current: dict[str, dict[str, LedgerEntry]]
    ) -> tuple[list[PlannedCase], int, list[str]]:
        """The stage's cases with their keys, how many are blocked, and the run's case universe."""
        if stage.cls.scope == "run":
            return [self._plan_run_scope(stage, current)], 0, universe
        if stage.after:
            planned, blocked = self._plan_downstream(stage, universe, current)
            return planned, blocked, universe
        planned = self._plan_source(stage)
        return planned, 0, list(dict.fromkeys(p.case_id for p in planned))

    def _classify(
        self, stage: ResolvedStage, planned: list[PlannedCase], blocked: int, status: StageStatus | None = None
    ) -> tuple[StageStatus, dict[str, LedgerEntry], list[Any]]:
        """Count done / failed / pending from the parts on disk; the failures that stand now."""
        store = self.stores[stage.name]
        done, failures = store.index(), store.failures()
        status = status or StageStatus(stage.name)
        status.total, status.blocked = len(planned) + blocked, blocked
        entries: dict[str, LedgerEntry] = {}
        standing = []
        for p in planned:
            entry = done.get(p.key)
            if entry is not None:
                entries[p.case_id] = entry
                status.done += 1
            elif p.key in failures:
                status.failed += 1
                standing.append(failures[p.key])
                etype = failures[p.key].error_type
                status.failure_types[etype] = status.failure_types.get(etype, 0) + 1
            else:
                status.pending += 1
        return status, entries, standing

    # --- running ---------------------------------------------------------------------
    def run(self, retry: bool = False, command: str = "run") -> list[StageStatus]:
        """Run every stage; with `retry`, only the failed cases (and what depends on them)."""
        removed = self.location.remove_stale_temporaries()
        if self.location.local is None:
            removed += remove_stale_temporaries(self.run_dir)
        if removed:
            log.info("removed %d temporary files left by an interrupted run", removed)
        invocation = self.manifest.start_invocation(command, self.workers)
        invocation["executor"] = self.executor_name
        # What each stage's content keys are made of (besides inputs), for `pathkg diff`'s lineage walk.
        invocation["lineage"] = {
            s.name: {
                "code_version": code_version_of(s.cls),
                "params": self._params_json(s),
                "contract": s.cls.output_model.__name__,
                "scope": s.cls.scope,
            }
            for s in self.config.stages
        }
        try:
            statuses = self._run_stages(invocation, retry)
            self._upload_side_outputs()
            return statuses
        finally:
            if self._ray_executor is not None:
                self._ray_executor.close()  # the actors go; the executor may start new ones next run
            if self._pool is not None:
                self._pool.close()
                self._pool = None

    def _upload_side_outputs(self) -> None:
        """A run directory behind a URL gets the run-scope outputs users read (export, report, review queue)."""
        if self.location.local is not None:
            return
        for folder in UPLOADED_FOLDERS:
            local = self.run_dir / folder
            if local.is_dir():
                # Trailing slashes: copy the folder's contents into the target, also when it exists.
                self.location.fs.put(f"{local}/", self.location.path(folder) + "/", recursive=True)
                log.info("uploaded %s to %s", local, self.location.url_of(folder))

    def _run_stages(self, invocation: dict[str, Any], retry: bool) -> list[StageStatus]:
        statuses = []
        current: dict[str, dict[str, LedgerEntry]] = {}
        universe: list[str] = []
        retried_cases: set[str] = set()
        progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description:<12}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[red]{task.fields[failed]} failed"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            disable=not self.show_progress,
        )
        with progress:
            for stage in self.config.stages:
                t0 = time.perf_counter()
                planned, blocked, universe = self._plan(stage, universe, current)
                status = StageStatus(stage.name)
                self._run_stage(stage, planned, retry, retried_cases, status, progress)
                status, current[stage.name], standing = self._classify(stage, planned, blocked, status)
                self._run_extras["stage_status"].append({"stage": stage.name, **_counts(status)})
                self._run_extras["failures"].extend(f.model_dump(mode="json") for f in standing)
                status.seconds = round(time.perf_counter() - t0, 3)
                statuses.append(status)
                invocation["stages"][stage.name] = asdict(status)
                self.manifest.save()
                log.info(
                    "%s: %d/%d done (%d run now, %d unchanged), %d failed, %d pending, %d blocked, %.1fs",
                    stage.name, status.done, status.total, status.ran - status.newly_failed, status.skipped,
                    status.failed, status.pending, status.blocked, status.seconds,
                )  # fmt: skip
        invocation["finished"] = now()
        self.manifest.data["status"] = {s.stage: _counts(s) for s in statuses}
        self.manifest.save()
        return statuses

    def _run_stage(
        self,
        stage: ResolvedStage,
        planned: list[PlannedCase],
        retry: bool,
        retried_cases: set[str],
        status: StageStatus,
        progress: Progress,
    ) -> None:
        store = self.stores[stage.name]
        done, failures = store.index(), store.failures()
        # A case failed before is retried even if its key changed since (the user fixed a file).
        failed_cases = {f.case_id for f in failures.values()} if retry else set()
        todo = []
        for p in planned:
            if p.key in done:
                status.skipped += 1
            elif not retry:
                if p.key not in failures:
                    todo.append(p)
            elif (
                p.key in failures
                or p.case_id in failed_cases
                or p.case_id in retried_cases
                # A run-scope stage sums over every case: redo it when any case was retried.
                or (p.case_id == RUN_CASE_ID and retried_cases)
            ):
                todo.append(p)
                retried_cases.add(p.case_id)
        if todo:
            self._execute(stage, store, todo, failures, status, progress)

    def _executor(self, stage: ResolvedStage):
        if stage.cls.scope == "run":
            return InlineExecutor()
        if stage.cls.kind_for(stage.params) == "io":
            return AsyncioExecutor(self.config.run.concurrency)
        if self.executor_name == "ray":
            return self.ray_executor
        if self.workers > 1:
            if self._pool is None:  # one pool for the whole run: workers keep what they loaded
                self._pool = ProcessPoolExecutor(self.workers)
            return self._pool
        return InlineExecutor()

    def _execute(
        self,
        stage: ResolvedStage,
        store: StageStore,
        todo: list[PlannedCase],
        failures: dict,
        status: StageStatus,
        progress: Progress | None,
    ) -> None:
        opts = self.config.run
        pre_failed: collections.deque[Outcome] = collections.deque()
        upstream_stores = [self.stores[name] for name in stage.after]
        run_dir = self.location.url_of() if self.location.local is None else str(self.run_dir.resolve())

        def tasks() -> Iterator[Task]:
            for p in todo:
                if p.plan_error is not None:
                    pre_failed.append(Outcome(p.case_id, p.key, None, p.plan_error))
                    continue
                if stage.cls.scope == "run":
                    inputs = {up: UpstreamRecords(self.stores[up], entries) for up, entries in p.payload.items()}
                    yield Task(p.case_id, p.key, inputs)
                    continue
                if not stage.after:
                    yield Task(p.case_id, p.key, {"source": [p.payload]})
                    continue
                # References, not records: the worker reads and validates its inputs itself.
                inputs = {
                    name: StoredInput(run_dir, name, st.output_model, entry)
                    for name, st, entry in zip(stage.after, upstream_stores, p.upstream, strict=True)
                }
                yield Task(p.case_id, p.key, inputs)

        results: list[CaseResult] = []
        failed: list = []
        last_flush = time.monotonic()
        task_id = progress.add_task(stage.name, total=len(todo), failed=0) if progress else None

        def flush() -> None:
            nonlocal last_flush
            store.write_part(results)
            store.record_failures(failed)
            results.clear()
            failed.clear()
            last_flush = time.monotonic()

        def take(outcome: Outcome) -> None:
            status.ran += 1
            if outcome.error is None:
                results.append(
                    CaseResult(outcome.case_id, outcome.key, outcome.rows if outcome.rows is not None else [])
                )
            else:
                status.newly_failed += 1
                prev = failures.get(outcome.key)
                etype, message = outcome.error
                failed.append(
                    make_failure(
                        stage.name, outcome.case_id, outcome.key, etype, message, prev.attempt + 1 if prev else 1
                    )
                )
                log.debug("%s failed on %s: %s: %s", stage.name, outcome.case_id, etype, message)
            if progress is not None:
                progress.update(task_id, advance=1, failed=status.newly_failed)
            if len(results) + len(failed) >= opts.flush_every or time.monotonic() - last_flush >= opts.flush_seconds:
                flush()

        factory = StageFactory(stage.cls, stage.params, self._context(stage))
        setup = factory()
        try:
            setup.prepare()
        except (OSError, ValueError, RuntimeError) as exc:
            raise StagePlanError(f"stage {stage.name}: cannot prepare: {type(exc).__name__}: {exc}") from exc
        finally:
            setup.close()
        for outcome in self._executor(stage).map(factory, tasks()):
            while pre_failed:
                take(pre_failed.popleft())
            take(outcome)
        while pre_failed:
            take(pre_failed.popleft())
        flush()

    # --- status ----------------------------------------------------------------------
    def _walk(self) -> Iterator[tuple[ResolvedStage, StageStatus, dict[str, LedgerEntry], list[Any]]]:
        """Plan every stage against the parts on disk, in order, without running anything."""
        current: dict[str, dict[str, LedgerEntry]] = {}
        universe: list[str] = []
        for stage in self.config.stages:
            planned, blocked, universe = self._plan(stage, universe, current)
            status, current[stage.name], standing = self._classify(stage, planned, blocked)
            yield stage, status, current[stage.name], standing

    def inspect(self) -> tuple[list[StageStatus], list[Any]]:
        """Per stage done / failed / pending / blocked, and the standing failures (runs nothing)."""
        statuses, standing_all = [], []
        for _, status, _, standing in self._walk():
            statuses.append(status)
            standing_all.extend(standing)
        return statuses, standing_all

    def read_current(self, stage_name: str) -> pa.Table:
        """The current output rows of one stage (the rows of every case whose key is done)."""
        for stage, _, entries, _ in self._walk():
            if stage.name == stage_name:
                keys = [e.key for e in entries.values()]
                return self.stores[stage_name].read_table(keys).drop_columns([KEY_COL])
        raise KeyError(f"no stage {stage_name!r} in this run's config")


def default_local_dir(url: str) -> Path:
    """Where a run behind `url` keeps the files its stages write locally (KG database, tiles)."""
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    return Path(os.environ.get("PATHKG_CACHE", Path.home() / ".cache" / "pathkg")) / "runs" / digest


def _counts(s: StageStatus) -> dict[str, int]:
    return {"total": s.total, "done": s.done, "failed": s.failed, "pending": s.pending, "blocked": s.blocked}
