"""What `pathkg diff RUN_A RUN_B --json` prints: samples added, removed and changed, each with its causes.

A sample is matched across the two runs by the question it answers (case, scale, question type, wording,
images), not by `sample_id`: the id hashes the response too, so a sample whose chain was rewritten keeps
its question and gets a new id; both ids are reported. Each change is attributed to its root causes by
walking the case's lineage stage by stage (see `pathkg/diff/attribution.py`); the cause vocabulary is
`CauseKind`. `schema_version` changes only when a field changes meaning or disappears.
"""

from typing import Literal

from pydantic import Field

from schemas.record import Record

CauseKind = Literal[
    "kg_version",
    "prompt_version",
    "extraction",
    "generator",
    "config",
    "code_version",
    "input_data",
    "case_failed",
    "not_committed",
    "untracked_change",
]

ChangeKind = Literal["added", "removed", "changed"]


class Cause(Record):
    """Why one stage's output for a case differs between run A and run B."""

    kind: CauseKind
    stage: str = Field(description="The pipeline stage where the cause enters the case's lineage.")
    name: str | None = Field(
        default=None, description="What changed: the prompt name, the parameter, the output field, the error type."
    )
    a: str | None = Field(default=None, description="Its value in run A (JSON text when not a string).")
    b: str | None = Field(default=None, description="Its value in run B.")
    detail: str = Field(description="One line a data engineer can read.")


class SampleChange(Record):
    change: ChangeKind
    case_id: str
    question_type: str
    scale: str
    sample_id_a: str | None = Field(default=None, description="The sample's id in run A (None: added).")
    sample_id_b: str | None = Field(default=None, description="The sample's id in run B (None: removed).")
    content_hash_a: str | None = Field(default=None, description="Hash of the sample's content in A (run id left out).")
    content_hash_b: str | None = None
    status_a: str | None = Field(default=None, description="Verification status in A: pass | flagged | rejected.")
    status_b: str | None = None
    fields: list[str] = Field(default_factory=list, description="Changed sample fields (changed samples).")
    causes: list[Cause] = Field(default_factory=list, description="Root causes, earliest stage first.")


class CauseCount(Record):
    """One cause and how many samples it explains (a sample with two causes counts under both)."""

    kind: CauseKind
    stage: str
    name: str | None = None
    a: str | None = None
    b: str | None = None
    detail: str
    changed: int = 0
    added: int = 0
    removed: int = 0


class StageProgress(Record):
    """A stage of a run whose cases are not all committed (failed, or still pending)."""

    stage: str
    committed: int
    failed: int
    pending: int


class RunSide(Record):
    run_dir: str
    run_id: str
    config_path: str | None = None
    config_sha256: str
    git_revision: str | None = None
    pathkg_version: str | None = None
    sample_stage: str = Field(description="The stage whose output is the sample contract (e.g. verify).")
    samples: int = Field(description="Committed samples of that stage.")
    finished: bool = Field(description="False: the last invocation is still running or was killed.")
    lineage_recorded: bool = Field(
        description="The run recorded each stage's code version and parameters (exact lineage); False: "
        "the latest committed output per case is taken as current."
    )
    incomplete_stages: list[StageProgress] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class ContextChange(Record):
    """A run-level difference (package, revision, stage parameters), whether or not any sample shows it."""

    what: Literal["package", "git_revision", "pathkg_version", "stage_params", "stage_code", "stages"]
    name: str
    a: str | None = None
    b: str | None = None


class DiffCounts(Record):
    unchanged: int = 0
    changed: int = 0
    added: int = 0
    removed: int = 0


class RunDiff(Record):
    schema_version: Literal["1"] = "1"
    a: RunSide
    b: RunSide
    counts: DiffCounts
    by_cause: list[CauseCount] = Field(default_factory=list, description="Most samples first.")
    context: list[ContextChange] = Field(default_factory=list)
    samples: list[SampleChange] = Field(default_factory=list, description="Every sample that differs.")
