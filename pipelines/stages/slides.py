"""slides: each case's whole-slide images -> `SlideRecord`s (properties, tissue mask, thumbnail, ROI tiles).

Input: `Case` records (from `ingest`). A case without slides produces no records (and is done).
One record per slide. Images go under the stage's work directory,
`<run>/work/<stage>/<case_id>/<slide file stem>/`, written atomically.

A bad slide fails its case with its own error type (the runner records it; the run goes on):
`SlideNotFoundError`, `CorruptSlideError` (truncated / damaged), `NotPyramidalSlideError` (a plain
image), `UnsupportedSlideFormatError`, `NoTissueError`. A native crash inside OpenSlide kills
only its worker process; the runner reruns that case alone and records it as `WorkerCrashed`.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar, Literal

import pathkg.wsi
from pathkg.wsi.slide_processing import SlideSettings, process_slide
from pipelines.content_key import sha256_text
from pipelines.stage import Stage, StageParams
from schemas.case import Case
from schemas.slide import SlideRecord

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _wsi_library_hash() -> str:
    """A hash of pathkg/wsi's sources: an edit there changes the outputs, so it re-keys the stage."""
    root = Path(pathkg.wsi.__file__).parent
    return sha256_text("".join(p.read_text(encoding="utf-8") for p in sorted(root.glob("*.py"))))[:12]


class SlidesParams(StageParams, SlideSettings):
    """The `slides` stage's parameters: exactly `pathkg.wsi.slide_processing.SlideSettings`."""


def _safe(name: str) -> str:
    return _UNSAFE.sub("_", name).strip("._") or "_"


def slide_dir_names(slide_paths: list[str]) -> list[str]:
    """One folder name per slide: the file stem, numbered when two slides of a case share it."""
    stems = [_safe(Path(p).stem) for p in slide_paths]
    counts = Counter(stems)
    seen: Counter[str] = Counter()
    names = []
    for stem in stems:
        seen[stem] += 1
        names.append(stem if counts[stem] == 1 else f"{stem}-{seen[stem]}")
    return names


class SlidesStage(Stage):
    name: ClassVar[str] = "slides"
    version: ClassVar[str] = f"1+wsi.{_wsi_library_hash()}"
    kind: ClassVar[Literal["cpu", "io"]] = "cpu"
    output_model = SlideRecord
    Params = SlidesParams
    params: SlidesParams

    def process(self, case_id: str, inputs: dict[str, list[Any]]) -> list[SlideRecord]:
        cases = [rec for records in inputs.values() for rec in records if isinstance(rec, Case)]
        records = []
        settings = SlideSettings.model_validate(self.params.model_dump())
        case_dir = self.context.work_dir / _safe(case_id)
        for case in cases:
            for slide_path, dir_name in zip(case.slide_paths, slide_dir_names(case.slide_paths), strict=True):
                records.append(
                    process_slide(
                        Path(slide_path),
                        case_dir / dir_name,
                        self.context.run_dir,
                        settings,
                        case_id=case.case_id,
                        patient_id=case.patient_id,
                        project=case.project,
                    )
                )
        return records
