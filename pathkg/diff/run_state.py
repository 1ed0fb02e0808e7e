"""A run directory as `pathkg diff` sees it: its stages and, per stage and case, the committed output that is current.

Only what the run recorded is read: `manifest.json` (config text, versions, and since this was added,
each stage's code version and key parameters per invocation: the *lineage*) and the ledgers in the
Parquet part footers. Nothing is re-planned against today's code or data, so a run made by older code,
or from input files that have changed since, is seen as it was.

Which committed entry of a stage is current for a case:
- with the lineage recorded, a downstream stage's current key is recomputed exactly as the runner
  computed it (`content_key(stage, code version, params, upstream keys)`) from the current upstream
  entries; a case whose key is in no ledger is not committed (failed, or pending in a run in progress);
- source stages (and run-scope stages, whose extra fingerprint is not recorded), and every stage of a
  run without recorded lineage, take the latest committed entry per case.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import yaml

from pipelines.content_key import canonical_json, downstream_key, key_params_json, sha256_text
from pipelines.registry import UnknownStageError, resolve_stage
from pipelines.run_manifest import RunManifest
from pipelines.runner import RUN_CASE_ID
from pipelines.stage import Stage
from pipelines.store import LEDGER_KEY, LedgerEntry, StageStore
from schemas import CONTRACTS
from schemas.failure import FailureRecord
from schemas.record import Record
from schemas.sample import Sample

#: Contract classes by name, for runs that recorded their stages' contracts (no stage code imported).
_MODELS: dict[str, type[Record]] = {m.__name__: m for m in CONTRACTS.values()}

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class RunDirError(ValueError):
    """The directory is not a pathkg run, or its config names a stage this code cannot import."""


@dataclass(frozen=True)
class StageInfo:
    name: str
    uses: str
    after: tuple[str, ...]
    params: dict[str, Any]  # the parameters that go into the content key
    code_version: str | None  # None: not recorded by this run
    scope: str  # "case" | "run"
    output_model: type[Record]

    @property
    def contract(self) -> str:
        return self.output_model.__name__


@dataclass
class StageState:
    """Per case, the current committed entry; the cases that failed or are pending."""

    current: dict[str, LedgerEntry] = field(default_factory=dict)
    failed: dict[str, FailureRecord] = field(default_factory=dict)
    pending: set[str] = field(default_factory=set)
    stale_cases: int = 0  # cases with outputs of earlier configurations in the directory

    def place(self, case_id: str, entry: LedgerEntry | None, failure: FailureRecord | None) -> None:
        """A case is current when it has an entry, else failed when it has a failure, else pending."""
        if entry is not None:
            self.current[case_id] = entry
        elif failure is not None:
            self.failed[case_id] = failure
        else:
            self.pending.add(case_id)


def _expand_env_lenient(text: str) -> str:
    """`${VAR:-default}` as the runner expands it; an unset variable without default stays as written."""

    def repl(match: re.Match[str]) -> str:
        value = os.environ.get(match.group(1))
        if value:
            return value
        return match.group(2) if match.group(2) is not None else match.group(0)

    return _ENV.sub(repl, text)


class RunState:
    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        try:
            self.manifest = RunManifest.load(self.run_dir).data
        except FileNotFoundError as exc:
            raise RunDirError(str(exc)) from exc
        except json.JSONDecodeError as exc:
            raise RunDirError(f"{self.run_dir / RunManifest.FILE}: not valid JSON: {exc}") from exc
        invocations = self.manifest.get("invocations") or []
        self.last_invocation: dict[str, Any] = invocations[-1] if invocations else {}
        self.lineage: dict[str, dict[str, str]] = self.last_invocation.get("lineage") or {}
        self.config_text: str = self.manifest.get("config", {}).get("text", "")
        self.notes: list[str] = []
        self.stages = self._stage_infos()
        self.states: dict[str, StageState] = {}
        self._resolve_current()

    # --- identity ------------------------------------------------------------------
    @property
    def run_id(self) -> str:
        return str(self.manifest.get("run_id", "?"))

    @property
    def finished(self) -> bool:
        return bool(self.last_invocation) and self.last_invocation.get("finished") is not None

    @property
    def lineage_recorded(self) -> bool:
        return bool(self.lineage) and all(name in self.lineage for name in self.stages)

    @property
    def config_sha256(self) -> str:
        return sha256_text(self.config_text)

    @property
    def config_path(self) -> str | None:
        return self.manifest.get("config", {}).get("path")

    @property
    def packages(self) -> dict[str, str]:
        return dict(self.last_invocation.get("packages") or {})

    def store(self, stage: str) -> StageStore:
        return StageStore(self.run_dir, stage, self.stages[stage].output_model)

    def parts_dir(self, stage: str) -> Path:
        return self.run_dir / "stages" / stage

    def sample_stage(self) -> str:
        """The last stage whose output contract is the exported sample (verify, in the demo)."""
        found = [s.name for s in self.stages.values() if issubclass(s.output_model, Sample)]
        if not found:
            raise RunDirError(f"{self.run_dir}: no stage of its config produces samples ({Sample.__name__})")
        return found[-1]

    def ancestors(self, stage: str) -> list[str]:
        """The stage and every stage it reads from, directly or not, in pipeline order."""
        wanted, todo = {stage}, [stage]
        while todo:
            for up in self.stages[todo.pop()].after:
                if up not in wanted:
                    wanted.add(up)
                    todo.append(up)
        return [name for name in self.stages if name in wanted]

    # --- config --------------------------------------------------------------------
    def _stage_infos(self) -> dict[str, StageInfo]:
        base_dir = Path(self.manifest.get("config", {}).get("base_dir") or self.run_dir)
        try:
            data = yaml.safe_load(_expand_env_lenient(self.config_text)) or {}
        except yaml.YAMLError as exc:
            raise RunDirError(f"{self.run_dir}: the recorded config is not valid YAML: {exc}") from exc
        specs = data.get("stages") or []
        if not specs:
            raise RunDirError(f"{self.run_dir}: the recorded config has no stages")
        infos: dict[str, StageInfo] = {}
        previous: str | None = None
        for spec in specs:
            name = spec["name"]
            uses = spec.get("uses") or name
            after = tuple(spec["after"]) if spec.get("after") is not None else ((previous,) if previous else ())
            recorded = self.lineage.get(name)
            if recorded is not None and recorded.get("contract") in _MODELS:
                infos[name] = StageInfo(
                    name, uses, after, json.loads(recorded["params"]), recorded["code_version"],
                    recorded.get("scope", "case"), _MODELS[recorded["contract"]],
                )  # fmt: skip
            else:  # an older run: today's stage code tells the contract, scope and key parameters
                try:
                    cls = resolve_stage(uses)
                except UnknownStageError as exc:
                    raise RunDirError(f"{self.run_dir}: stage {name!r}: {exc}") from exc
                params = self._key_params(cls, spec.get("params") or {}, base_dir)
                infos[name] = StageInfo(name, uses, after, params, None, cls.scope, cls.output_model)
            previous = name
        if not self.lineage:
            self.notes.append(
                "this run did not record its stages' code versions (made before `pathkg diff` existed): the latest "
                "committed output per case is taken as current, and code changes are inferred from content keys"
            )
        return infos

    @staticmethod
    def _key_params(cls: type[Stage], raw: dict[str, Any], base_dir: Path) -> dict[str, Any]:
        """The parameters as the runner puts them in keys; the raw config values if today's code rejects them."""
        try:
            params = cls.Params.model_validate(raw, context={"base_dir": base_dir})
        except ValueError:
            return json.loads(canonical_json(raw))
        return json.loads(key_params_json(params, cls.key_exclude))

    # --- current entries -----------------------------------------------------------
    def _resolve_current(self) -> None:
        universe: list[str] = []
        for info in self.stages.values():
            store = self.store(info.name)
            state = StageState()
            by_key: dict[str, LedgerEntry] = {}
            latest: dict[str, LedgerEntry] = {}
            keys_per_case: dict[str, set[str]] = {}
            for entry in committed_entries(self.parts_dir(info.name)):
                by_key.setdefault(entry.key, entry)  # the first part to hold a key wins, as for the runner
                latest[entry.case_id] = entry  # time-ordered parts: the last part holding a case wins
                keys_per_case.setdefault(entry.case_id, set()).add(entry.key)
            failures = store.failures()
            failed_by_case: dict[str, FailureRecord] = {}
            for rec in failures.values():
                prev = failed_by_case.get(rec.case_id)
                if prev is None or rec.time >= prev.time:
                    failed_by_case[rec.case_id] = rec
            exact = info.scope == "case" and bool(info.after) and info.code_version is not None
            if info.scope == "run":
                state.place(RUN_CASE_ID, latest.get(RUN_CASE_ID), failed_by_case.get(RUN_CASE_ID))
            elif not info.after:
                state.current = dict(latest)
                for case_id, rec in failed_by_case.items():
                    if case_id not in latest or rec.time.timestamp() * 1e9 > _part_ns(latest[case_id].part):
                        state.failed[case_id] = rec
                        state.current.pop(case_id, None)
                universe = sorted(set(state.current) | set(state.failed))
            else:
                for case_id in universe:
                    ups = [self._upstream_entry(up, case_id) for up in info.after]
                    if any(e is None for e in ups):
                        continue  # blocked: an upstream stage has no current output for the case
                    if exact:
                        upstream = [(up, e.key) for up, e in zip(info.after, ups, strict=True)]
                        key = downstream_key(info.name, info.code_version or "", canonical_json(info.params), upstream)
                        state.place(case_id, by_key.get(key), failures.get(key))
                    else:
                        state.place(case_id, latest.get(case_id), failed_by_case.get(case_id))
            state.stale_cases = sum(1 for c, keys in keys_per_case.items() if len(keys) > 1)
            self.states[info.name] = state
        self._note_source_drift(universe)

    def _upstream_entry(self, stage: str, case_id: str) -> LedgerEntry | None:
        current = self.states[stage].current
        return current.get(case_id) or current.get(RUN_CASE_ID)

    def _note_source_drift(self, universe: list[str]) -> None:
        source = next(iter(self.stages))
        recorded = (self.last_invocation.get("stages") or {}).get(source, {}).get("total")
        if recorded is not None and len(universe) > recorded:
            self.notes.append(
                f"stage {source} holds {len(universe)} cases but its last run listed {recorded}: cases dropped from "
                "the source after an earlier run of this directory are still counted"
            )
        stale = {n: s.stale_cases for n, s in self.states.items() if s.stale_cases}
        if stale and not self.lineage_recorded:
            listed = ", ".join(f"{n}: {c}" for n, c in stale.items())
            self.notes.append(f"outputs of earlier configurations are in the directory (cases per stage: {listed})")

    def entry(self, stage: str, case_id: str) -> LedgerEntry | None:
        """The current entry of a stage for a case (a run-scope stage's single entry for every case)."""
        if self.stages[stage].scope == "run":
            return self.states[stage].current.get(RUN_CASE_ID)
        return self.states[stage].current.get(case_id)

    def missing_reason(self, stage: str, case_id: str) -> tuple[str, str | None]:
        """Why a stage has no current output for a case: ('case_failed', error) / ('not_committed', None) / ..."""
        state = self.states[stage]
        cid = RUN_CASE_ID if self.stages[stage].scope == "run" else case_id
        if cid in state.failed:
            rec = state.failed[cid]
            return "case_failed", f"{rec.error_type}: {rec.message}"
        if cid in state.pending:
            return "not_committed", None
        if not self.stages[stage].after:
            return "input_data", None
        return "not_committed", None

    def incomplete(self) -> list[tuple[str, int, int, int]]:
        """(stage, committed, failed, pending) of every stage with failed or pending cases."""
        rows = []
        for name, state in self.states.items():
            if state.failed or state.pending:
                rows.append((name, len(state.current), len(state.failed), len(state.pending)))
        return rows


def committed_entries(parts_dir: Path) -> Iterator[LedgerEntry]:
    """Every ledger entry of a stage's parts, oldest part first (footers only: no rows are read)."""
    if not parts_dir.is_dir():
        return
    for part in sorted(p for p in parts_dir.glob("part-*.parquet") if p.is_file()):
        meta = pq.read_schema(part).metadata or {}
        for case_id, key, n_rows in json.loads(meta.get(LEDGER_KEY, b"[]")):
            yield LedgerEntry(case_id, key, n_rows, part.name)


def _part_ns(part: str) -> float:
    """The time a part was written, from its name (`part-<ns>-<rand>.parquet`)."""
    try:
        return float(part.split("-")[1])
    except (IndexError, ValueError):
        return 0.0
