"""Stage types by name, plus `module:Class` import paths for stages defined elsewhere."""

from __future__ import annotations

import importlib

from pipelines.stage import Stage

# name -> "module:Class"; imported lazily so that a pipeline pays only for the stages it uses.
BUILTIN_STAGES: dict[str, str] = {
    "ingest": "pipelines.stages.ingest:IngestStage",
    "synthetic_cases": "pipelines.stages.synthetic_cases:SyntheticCasesStage",
    "reports": "pipelines.stages.reports:ReportsStage",
    "slides": "pipelines.stages.slides:SlidesStage",
    "kg": "pipelines.stages.kg:KGStage",
    "link": "pipelines.stages.link:LinkStage",
    "paths": "pipelines.stages.paths:PathsStage",
    "questions": "pipelines.stages.questions:QuestionsStage",
    "generate": "pipelines.stages.generate:GenerateStage",
    "verify": "pipelines.stages.verify:VerifyStage",
    "export": "pipelines.stages.export:ExportStage",
    "report": "pipelines.stages.report:ReportStage",
}


class UnknownStageError(ValueError):
    pass


def resolve_stage(uses: str) -> type[Stage]:
    """Return the Stage class for a registered name or a `package.module:ClassName` path."""
    target = BUILTIN_STAGES.get(uses, uses)
    if ":" not in target:
        known = ", ".join(sorted(BUILTIN_STAGES))
        raise UnknownStageError(f"unknown stage {uses!r}; known stages: {known} (or use 'module:Class')")
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
        cls = getattr(module, attr)
    except (ImportError, AttributeError) as exc:
        raise UnknownStageError(f"cannot import stage {uses!r} ({target}): {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, Stage)):
        raise UnknownStageError(f"{target} is not a pipelines.stage.Stage subclass")
    return cls
