"""Why a case's samples differ between two runs: walk its lineage, stage by stage, to the root causes.

For one case, every stage the sample stage reads from (ingest → reports / slides → kg → link → paths →
questions → generate → verify) is compared in pipeline order: the case's committed output in run A
against run B, by content digest. A stage whose output differs is a *cause* when something of its own
changed — its parameters, its code version, a version it stamps on its records (prompt version, model,
KG version) — or when nothing upstream of it differs (then: new input data for a source stage, else an
untracked change). A stage that differs only because an upstream stage does is an effect, not a cause,
so a new prompt at `generate` is reported once, not again at `verify`.

A case missing at a stage in one run is a cause too, unless an upstream stage already explains it:
`case_failed` (with the error), `not_committed` (a run in progress) or `input_data` (not in the source).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pathkg.diff.causes import field_cause, param_cause, split_prompt, version_fields_of
from pathkg.diff.row_digest import CaseOutput, RowNormaliser, case_outputs
from pathkg.diff.run_state import RunState, StageInfo
from pipelines.content_key import canonical_json
from schemas.run_diff import Cause


@dataclass(frozen=True)
class StageSides:
    name: str
    a: StageInfo | None
    b: StageInfo | None

    @property
    def uses(self) -> str:
        return (self.a or self.b).uses  # type: ignore[union-attr]

    @property
    def after(self) -> tuple[str, ...]:
        ups = list(self.a.after if self.a else ())
        ups += [u for u in (self.b.after if self.b else ()) if u not in ups]
        return tuple(ups)

    @property
    def is_source(self) -> bool:
        return not self.after and (self.a or self.b).scope == "case"  # type: ignore[union-attr]


def _text(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else canonical_json(value)


def flatten_params(params: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in params.items():
        if isinstance(value, dict) and value:
            out.update(flatten_params(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def config_causes(sides: StageSides) -> list[Cause]:
    """What changed in a stage itself between the runs: presence, type, parameters, code version."""
    a, b, name = sides.a, sides.b, sides.name
    if a is None or b is None:
        where = "B" if a is None else "A"
        return [Cause(kind="config", stage=name, name="stage", detail=f"stage {name} is in run {where}'s config only")]
    if a.uses != b.uses:
        return [
            Cause(kind="config", stage=name, name="uses", a=a.uses, b=b.uses, detail=f"{name}: {a.uses} → {b.uses}")
        ]
    causes = []
    pa, pb = flatten_params(a.params), flatten_params(b.params)
    for param in sorted(set(pa) | set(pb)):
        va, vb = pa.get(param), pb.get(param)
        if canonical_json(va) != canonical_json(vb):
            causes.append(
                Cause(
                    kind=param_cause(a.uses, param),  # type: ignore[arg-type]
                    stage=name,
                    name=param,
                    a=_text(va),
                    b=_text(vb),
                    detail=f"{name}.{param}: {_text(va)} → {_text(vb)}",
                )
            )
    if a.code_version and b.code_version and a.code_version != b.code_version:
        causes.append(
            Cause(
                kind="code_version",
                stage=name,
                name=a.uses,
                a=a.code_version,
                b=b.code_version,
                detail=f"{name} code {a.code_version} → {b.code_version}",
            )
        )
    return causes


def field_causes(sides: StageSides, oa: CaseOutput, ob: CaseOutput) -> list[Cause]:
    """Versions the stage stamped on this case's records that differ (prompt version, model, KG version)."""
    contract = sides.a.contract if sides.a else ""
    causes = []
    for field in sorted(set(oa.versions) | set(ob.versions)):
        va, vb = oa.versions.get(field, []), ob.versions.get(field, [])
        kind = field_cause(contract, field, sides.uses)
        if va == vb or kind is None:
            continue
        name, text_a, text_b = field, ", ".join(va) or None, ", ".join(vb) or None
        if kind == "prompt_version":
            split_a, split_b = [split_prompt(v) for v in va], [split_prompt(v) for v in vb]
            names = {n for n, _ in split_a + split_b if n and n != "(none)"}
            if len(names) == 1:
                name = names.pop()
                text_a = ", ".join(v for _, v in split_a if v) or None
                text_b = ", ".join(v for _, v in split_b if v) or None
        label = "KG" if kind == "kg_version" else name
        causes.append(
            Cause(
                kind=kind,  # type: ignore[arg-type]
                stage=sides.name,
                name=name,
                a=text_a,
                b=text_b,
                detail=f"{sides.name}: {label} {text_a} → {text_b}",
            )
        )
    return causes


def _fold(recorded: list[Cause], params: list[Cause]) -> list[Cause]:
    """Parameter changes that a version stamped on the records already names (the `prompt` parameter and
    the records' prompt version) join that cause's detail; the others stay causes of their own."""
    by_kind = {c.kind: i for i, c in reversed(list(enumerate(recorded)))}
    out = list(recorded)
    for cause in params:
        i = by_kind.get(cause.kind)
        if i is None:
            out.append(cause)
        elif cause.detail not in out[i].detail:
            out[i] = out[i].model_copy(update={"detail": f"{out[i].detail}; {cause.detail}"})
    return out


def _dedupe(causes: list[Cause]) -> list[Cause]:
    return list({(c.kind, c.stage, c.name, c.a, c.b): c for c in causes}.values())


class Attributor:
    """Root causes per case for two runs; stage outputs are digested in one streaming pass per stage."""

    def __init__(
        self,
        a: RunState,
        b: RunState,
        normalise: RowNormaliser,
        known: dict[str, tuple[dict[str, CaseOutput], dict[str, CaseOutput]]] | None = None,
    ):
        """`known`: per stage, outputs already digested in A and B (the samples), not read again."""
        self.a, self.b = a, b
        self.normalise = normalise
        self.known = known or {}
        lineage_a = a.ancestors(a.sample_stage())
        lineage_b = b.ancestors(b.sample_stage())
        order = lineage_a + [s for s in lineage_b if s not in lineage_a]
        self.stages = [StageSides(n, a.stages.get(n), b.stages.get(n)) for n in order]
        self.own = {s.name: config_causes(s) for s in self.stages}

    def _outputs(self, cases: list[str], full: bool) -> dict[str, tuple[dict[str, CaseOutput], dict[str, CaseOutput]]]:
        """Per stage, the digests of the cases' outputs in A and in B: those whose keys differ, or all (`full`)."""
        outputs: dict[str, tuple[dict[str, CaseOutput], dict[str, CaseOutput]]] = {}
        for sides in self.stages:
            if sides.a is None or sides.b is None:
                outputs[sides.name] = ({}, {})
                continue
            if sides.name in self.known:
                outputs[sides.name] = self.known[sides.name]
                continue
            pairs = [
                (ea, eb)
                for c in cases
                if (ea := self.a.entry(sides.name, c)) is not None
                and (eb := self.b.entry(sides.name, c)) is not None
                and (full or ea.key != eb.key)
            ]
            fields = version_fields_of(sides.a.contract)
            outputs[sides.name] = (
                case_outputs(
                    self.a.parts_dir(sides.name), {a.key: a for a, _ in pairs}.values(), self.normalise, fields
                ),
                case_outputs(
                    self.b.parts_dir(sides.name), {b.key: b for _, b in pairs}.values(), self.normalise, fields
                ),
            )
        return outputs

    def attribute(self, cases: Iterable[str]) -> dict[str, list[Cause]]:
        """Causes per case. First pass: a stage whose content key is the same in both runs is taken as
        unchanged (the runner's contract: same key, same output), so only outputs under changed keys are
        read. Cases left without any cause get a second pass that digests every stage's output, which
        finds what keys do not cover (an edit outside a stage's module, a nondeterministic stage)."""
        cases = sorted(set(cases))
        outputs = self._outputs(cases, full=False)
        found = {case_id: self._walk(case_id, outputs, full=False) for case_id in cases}
        unexplained = [case_id for case_id, causes in found.items() if not causes]
        if unexplained:
            outputs = self._outputs(unexplained, full=True)
            found.update({case_id: self._walk(case_id, outputs, full=True) for case_id in unexplained})
        return found

    def _walk(
        self, case_id: str, outputs: dict[str, tuple[dict[str, CaseOutput], dict[str, CaseOutput]]], full: bool
    ) -> list[Cause]:
        differs: dict[str, bool] = {}
        causes: list[Cause] = []
        for sides in self.stages:
            upstream_differs = any(differs.get(u, False) for u in sides.after)
            own = self.own[sides.name]
            if sides.a is None or sides.b is None:
                differs[sides.name] = True
                causes += own
                continue
            ea, eb = self.a.entry(sides.name, case_id), self.b.entry(sides.name, case_id)
            if ea is None or eb is None:
                differs[sides.name] = ea is not eb
                if ea is None and eb is None:
                    continue
                missing_in, run = ("A", self.a) if ea is None else ("B", self.b)
                kind, error = run.missing_reason(sides.name, case_id)
                if not upstream_differs:
                    config = [c for c in own if c.kind != "code_version"]
                    if kind == "input_data" and config:  # not in one source because the config lists others
                        causes += config
                    else:  # a changed stage that fails a case (or has not redone it yet): both are news
                        causes += [*config, _missing_cause(sides.name, kind, error, missing_in)]
                elif kind == "case_failed":  # failing is news even below a change: the change broke it
                    causes += [c for c in own if c.kind != "code_version"]
                    causes.append(_missing_cause(sides.name, kind, error, missing_in))
                continue
            if ea.key == eb.key and not full:
                differs[sides.name] = False
                continue
            out_a, out_b = outputs[sides.name]
            oa, ob = out_a.get(ea.key), out_b.get(eb.key)
            if oa is None or ob is None or oa.digest == ob.digest:
                differs[sides.name] = False
                continue
            differs[sides.name] = True
            params = [c for c in own if c.kind != "code_version" or not upstream_differs]
            found = _fold(field_causes(sides, oa, ob), params)
            if found:
                causes += found
            elif not upstream_differs:
                causes.append(self._unexplained(sides, ea.key, eb.key, case_id))
        return _dedupe(causes)

    def _unexplained(self, sides: StageSides, key_a: str, key_b: str, case_id: str) -> Cause:
        """A stage differs with nothing of its own changed and equal upstream outputs."""
        name = sides.name
        if sides.is_source:
            return Cause(kind="input_data", stage=name, detail=f"{name}: the case's input changed")
        upstream_keys_equal = all(
            (ua := self.a.entry(u, case_id)) is not None
            and (ub := self.b.entry(u, case_id)) is not None
            and ua.key == ub.key
            for u in sides.after
        )
        recorded = sides.a is not None and sides.a.code_version and sides.b is not None and sides.b.code_version
        if key_a != key_b and upstream_keys_equal and not recorded:
            # key = hash(stage, code version, params, upstream keys): params and inputs are equal, so the code is not.
            return Cause(
                kind="code_version",
                stage=name,
                detail=f"{name}: its content key changed with equal parameters and inputs (code version not recorded)",
            )
        return Cause(
            kind="untracked_change",
            stage=name,
            detail=f"{name}: output differs though its content key "
            + ("is the same" if key_a == key_b else "changed only through upstream keys")
            + " (code outside the stage's module, an unrecorded input, or a nondeterministic stage)",
        )


def _missing_cause(stage: str, kind: str, error: str | None, missing_in: str) -> Cause:
    if kind == "case_failed":
        etype = (error or "").split(":", 1)[0] or None
        return Cause(
            kind="case_failed", stage=stage, name=etype, detail=f"{stage}: failed in run {missing_in}: {error}"
        )
    if kind == "input_data":
        return Cause(kind="input_data", stage=stage, detail=f"{stage}: the case is not in run {missing_in}'s source")
    return Cause(
        kind="not_committed", stage=stage, detail=f"{stage}: not committed in run {missing_in} (in progress or pending)"
    )
