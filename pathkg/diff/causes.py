"""The fixed vocabulary of causes `pathkg diff` names, and how stage parameters and output fields map to it.

A cause is *why* a stage's output for a case differs between two runs:

- `kg_version`: the knowledge graph the case was read against changed (the `kg` stage's version).
- `prompt_version`: a versioned prompt or chain template changed (name and both versions).
- `extraction`: the report extraction changed: its backend, model or extractor version.
- `generator`: the chain writer changed: template or LLM, or the LLM's model.
- `config`: another stage parameter changed in the pipeline config (named, with both values).
- `code_version`: the stage's code changed (its declared version or source hash) with the same parameters.
- `input_data`: the case's input changed (the report, the manifest row, the slide), or the case is in
  one run's source only.
- `case_failed`: the case failed at this stage in one run (its error type).
- `not_committed`: the case has not been committed at this stage in one run (the run is in progress).
- `untracked_change`: the output differs although nothing its content key covers changed (code outside
  the stage's module, an unrecorded input, or a nondeterministic stage).
"""

from __future__ import annotations

import re
from typing import get_args

from schemas.run_diff import CauseKind

CAUSE_KINDS: tuple[str, ...] = get_args(CauseKind)

DESCRIPTIONS: dict[str, str] = {
    "kg_version": "the knowledge graph the case was read against changed",
    "prompt_version": "a versioned prompt or chain template changed",
    "extraction": "the report extraction backend, model or extractor version changed",
    "generator": "the chain writer (template / LLM) or its model changed",
    "config": "another stage parameter changed in the pipeline config",
    "code_version": "the stage's code changed, with the same parameters",
    "input_data": "the case's input (report, manifest row, slide) changed, or the case is in one run only",
    "case_failed": "the case failed at this stage in one run",
    "not_committed": "the case is not committed at this stage in one run (in progress)",
    "untracked_change": "the output differs though nothing in its content key changed",
}

#: Output fields a stage stamps on its records that name what produced them: (contract, field) -> cause.
#: Compared per case, so a version bump that the content key does not cover is still found.
VERSION_FIELDS: dict[tuple[str, str], str] = {
    ("GeneratedChain", "prompt_version"): "prompt_version",
    ("GeneratedChain", "generator_backend"): "generator",
    ("GeneratedChain", "generator_model"): "generator",
    ("ReportExtraction", "prompt_version"): "prompt_version",
    ("ReportExtraction", "backend"): "extraction",
    ("ReportExtraction", "model"): "extraction",
    ("ReportExtraction", "extractor_version"): "extraction",
    ("KGBuildSummary", "version"): "kg_version",
}

#: Stage parameters (by the stage type a config `uses`) that are not plain config: -> cause.
PARAM_CAUSES: dict[tuple[str, str], str] = {
    ("reports", "prompt"): "prompt_version",
    ("reports", "backend"): "extraction",
    ("reports", "model"): "extraction",
    ("generate", "prompt"): "prompt_version",
    ("generate", "writer"): "generator",
    ("generate", "model"): "generator",
}

#: Stage types whose every change is a change of the thing they make (the KG stage makes the KG).
STAGE_CAUSES: dict[str, str] = {"kg": "kg_version"}

_VERSIONED = re.compile(r"^(?P<name>.+?)[-_@](?P<version>v\d[\w.]*)$")


def split_prompt(spec: str | None) -> tuple[str | None, str | None]:
    """`chain_writing@v2` -> (chain_writing, v2); `template-v1` -> (template, v1); else (spec, spec)."""
    if not spec:
        return None, None
    name, sep, version = spec.partition("@")
    if sep:
        return name, version
    match = _VERSIONED.match(spec)
    if match:
        return match.group("name"), match.group("version")
    return spec, spec


def param_cause(uses: str, param: str) -> str:
    return STAGE_CAUSES.get(uses) or PARAM_CAUSES.get((uses, param.split(".")[0]), "config")


def field_cause(contract: str, field: str, uses: str) -> str | None:
    cause = VERSION_FIELDS.get((contract, field))
    if cause is None:
        return None
    return STAGE_CAUSES.get(uses, cause)


def version_fields_of(contract: str) -> tuple[str, ...]:
    return tuple(f for (c, f) in VERSION_FIELDS if c == contract)
