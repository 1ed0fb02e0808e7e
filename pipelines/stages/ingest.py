"""ingest: manifests and folders of TCGA-named files -> validated `Case` records.

Sources (any number, in order):
- a manifest (CSV / JSONL / Parquet) with `case_id` (or `patient_id`), optional `patient_id`,
  `project`, `slide_paths` (`;`-separated in CSV), and `report_text` or `report_path`
  (relative to the manifest). Other column names map through `columns:`; unmapped columns
  are kept as string labels.
- a folder of files named by TCGA barcode: `*.txt` reports and slide files, grouped by patient.

Every problem is a per-case failure with its own error type: unreadable row, missing case id,
malformed barcode, duplicate case id, missing report / slide file, empty or garbled report,
project mismatch, a case with slides but no report. Non-UTF-8 bytes are replaced and the case
flagged `non_utf8_report`, not rejected.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from pathkg.ingest.manifest_reader import ManifestRow, read_manifest
from pathkg.ingest.report_text import MissingFileError, check_report, read_report_file
from pathkg.tcga.barcode import MalformedBarcodeError, looks_like_tcga, parse_barcode
from pathkg.tcga.projects import load_patient_projects, project_code
from pipelines.content_key import sha256_bytes, sha256_text
from pipelines.stage import ConfigPath, SourceItem, Stage, StageParams
from schemas.case import Case

SLIDE_SUFFIXES = {".svs", ".tif", ".tiff", ".ndpi", ".mrxs", ".scn", ".bif", ".vms", ".vmu", ".svslide"}

#: Contract field -> column names tried in order when `columns:` does not say.
DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "case_id": ("case_id", "patient_id"),
    "patient_id": ("patient_id",),
    "project": ("project", "cancer_type"),
    "slide_paths": ("slide_paths", "slide_path"),
    "report_text": ("report_text", "text"),
    "report_path": ("report_path",),
}


class IngestError(ValueError):
    pass


class MissingCaseIdError(IngestError):
    pass


class DuplicateCaseIdError(IngestError):
    pass


class MalformedRowError(IngestError):
    pass


class MissingReportError(IngestError):
    pass


class ProjectMismatchError(IngestError):
    pass


class SourceSpec(StageParams):
    path: ConfigPath | None = Field(default=None, description="Manifest file (CSV / JSONL / Parquet).")
    folder: ConfigPath | None = Field(default=None, description="Folder of TCGA-named reports and slides.")
    format: Literal["auto", "csv", "jsonl", "parquet"] = "auto"
    columns: dict[str, str] = Field(default_factory=dict, description="Contract field -> manifest column.")
    id_level: Literal["as_given", "patient"] = Field(
        default="as_given", description="'patient' cuts TCGA barcodes in the case id to TCGA-XX-XXXX."
    )

    @model_validator(mode="after")
    def _one_kind(self) -> SourceSpec:
        if (self.path is None) == (self.folder is None):
            raise ValueError("give exactly one of 'path' (a manifest) or 'folder'")
        return self


class IngestParams(StageParams):
    sources: list[SourceSpec] = Field(min_length=1)
    projects_csv: ConfigPath | None = Field(
        default=None, description="patient_id,cancer_type table used to fill in / check `project`."
    )
    min_report_chars: int = Field(default=20, ge=1)
    min_letter_fraction: float = Field(default=0.5, ge=0, le=1)


def _file_fingerprint(path: Path) -> list[Any]:
    try:
        st = path.stat()
    except OSError:
        return [str(path), None]
    return [str(path), st.st_size, st.st_mtime_ns]


def _absolute(path: Path) -> str:
    # Not resolve(): a symlink's own name may be the TCGA barcode that the target lacks.
    return os.path.abspath(path)


class IngestStage(Stage):
    name: ClassVar[str] = "ingest"
    version: ClassVar[str] = "1"
    kind: ClassVar[Literal["cpu", "io"]] = "cpu"
    output_model = Case
    Params = IngestParams

    params: IngestParams

    # --- planning: find the cases ------------------------------------------------------
    def plan_source(self) -> Iterable[SourceItem]:
        candidates: list[tuple[str | None, dict[str, Any], str | None]] = []
        for spec in self.params.sources:
            if spec.path is not None:
                candidates.extend(self._manifest_candidates(spec))
            else:
                candidates.extend(self._folder_candidates(spec))

        origins: dict[str, list[str]] = defaultdict(list)
        for case_id, payload, error in candidates:
            if case_id is not None and error is None:
                origins[case_id].append(payload["origin"])

        projects = self._projects_fingerprint()
        for case_id, payload, error in candidates:
            cid = case_id or payload["origin"]
            if error is None and case_id is not None and len(origins[case_id]) > 1:
                error = (
                    DuplicateCaseIdError.__name__,
                    f"case {case_id}: duplicate case id in {', '.join(origins[case_id])}",
                )
            fingerprint = {"payload": payload, "files": self._fingerprint_files(payload), "projects": projects}
            yield SourceItem(cid, payload, fingerprint, error=(error if error else None))

    def _projects_fingerprint(self) -> str | None:
        path = self.params.projects_csv
        return sha256_bytes(path.read_bytes()) if path and path.is_file() else None

    def _fingerprint_files(self, payload: dict[str, Any]) -> list[Any]:
        files = []
        report_path = payload.get("report_path")
        if report_path:
            p = Path(report_path)
            files.append([report_path, sha256_bytes(p.read_bytes()) if p.is_file() else None])
        files.extend(_file_fingerprint(Path(s)) for s in payload.get("slide_paths", []))
        return files

    def _manifest_candidates(self, spec: SourceSpec) -> Iterator[tuple[str | None, dict[str, Any], Any]]:
        assert spec.path is not None
        base = spec.path.parent
        for row in read_manifest(spec.path, spec.format):
            payload: dict[str, Any] = {"origin": row.origin}
            if row.error is not None:
                yield None, payload, (MalformedRowError.__name__, f"{row.origin}: {row.error}")
                continue
            fields, labels = self._map_columns(row, spec)
            payload.update(fields)
            payload["labels"] = labels
            if payload.get("report_path"):
                payload["report_path"] = _absolute(base / payload["report_path"])
            payload["slide_paths"] = [_absolute(base / s) for s in payload.get("slide_paths", [])]
            case_id, error = self._case_id(payload, spec, row.origin)
            yield case_id, payload, error

    def _map_columns(self, row: ManifestRow, spec: SourceSpec) -> tuple[dict[str, Any], dict[str, str]]:
        used: set[str] = set()
        fields: dict[str, Any] = {}
        for field_name, candidates in DEFAULT_COLUMNS.items():
            names = (spec.columns[field_name],) if field_name in spec.columns else candidates
            for col in names:
                value = row.values.get(col)
                if value is not None and str(value).strip() != "":
                    fields[field_name] = value
                    used.add(col)
                    break
        slides = fields.get("slide_paths")
        if isinstance(slides, str):
            fields["slide_paths"] = [s.strip() for s in slides.split(";") if s.strip()]
        elif slides is None:
            fields["slide_paths"] = []
        else:
            fields["slide_paths"] = [str(s) for s in slides]
        labels = {k: str(v) for k, v in row.values.items() if k not in used and v is not None and str(v).strip() != ""}
        return fields, labels

    def _case_id(self, payload: dict[str, Any], spec: SourceSpec, origin: str) -> tuple[str | None, Any]:
        raw = str(payload.get("case_id") or "").strip()
        if not raw:
            return None, (MissingCaseIdError.__name__, f"{origin}: no case id (columns case_id / patient_id)")
        if not looks_like_tcga(raw):
            if not str(payload.get("patient_id") or "").strip():
                payload["patient_id"] = raw
            return raw, None
        try:
            barcode = parse_barcode(raw)
        except MalformedBarcodeError as exc:
            return raw, (MalformedBarcodeError.__name__, f"{origin}: {exc}")
        if not barcode.well_formed:
            if spec.id_level != "patient":
                return raw, (MalformedBarcodeError.__name__, f"{origin}: malformed TCGA barcode {raw!r}")
            # Only the patient part is used as the id; keep the case, say what was wrong.
            payload.setdefault("flags", []).append("malformed_barcode_suffix")
        case_id = barcode.patient if spec.id_level == "patient" else barcode.text
        patient = str(payload.get("patient_id") or "").strip()
        if patient and patient.upper() != barcode.patient:
            return case_id, (
                MalformedRowError.__name__,
                f"{origin}: patient_id {patient!r} does not match the case barcode {barcode.text}",
            )
        payload["patient_id"] = barcode.patient
        return case_id, None

    def _folder_candidates(self, spec: SourceSpec) -> Iterator[tuple[str | None, dict[str, Any], Any]]:
        assert spec.folder is not None
        if not spec.folder.is_dir():
            raise IngestError(f"source folder {spec.folder} does not exist")
        groups: dict[str, dict[str, list[str]]] = defaultdict(lambda: {"reports": [], "slides": []})
        for path in sorted(spec.folder.rglob("*")):
            suffix = path.suffix.lower()
            if not path.is_file() or (suffix != ".txt" and suffix not in SLIDE_SUFFIXES):
                continue
            if not looks_like_tcga(path.name):
                continue
            try:
                barcode = parse_barcode(path.name)
            except MalformedBarcodeError as exc:
                yield path.name, {"origin": str(path)}, (MalformedBarcodeError.__name__, f"{path}: {exc}")
                continue
            if not barcode.well_formed:
                yield (
                    path.name,
                    {"origin": str(path)},
                    (
                        MalformedBarcodeError.__name__,
                        f"{path}: malformed TCGA barcode {barcode.text!r}",
                    ),
                )
                continue
            kind = "reports" if suffix == ".txt" else "slides"
            groups[barcode.patient][kind].append(_absolute(path))
        for patient, files in sorted(groups.items()):
            origin = f"{spec.folder.name}/{patient}"
            payload = {
                "origin": origin,
                "case_id": patient,
                "patient_id": patient,
                "slide_paths": files["slides"],
                "labels": {},
            }
            if len(files["reports"]) > 1:
                yield (
                    patient,
                    payload,
                    (
                        DuplicateCaseIdError.__name__,
                        f"case {patient}: several reports in the folder: {', '.join(files['reports'])}",
                    ),
                )
                continue
            if not files["reports"]:
                yield (
                    patient,
                    payload,
                    (
                        MissingReportError.__name__,
                        f"case {patient}: slides {', '.join(files['slides'])} but no report file",
                    ),
                )
                continue
            payload["report_path"] = files["reports"][0]
            yield patient, payload, None

    # --- per case: build the record ----------------------------------------------------
    def process(self, case_id: str, inputs: dict[str, list[Any]]) -> list[Case]:
        (payload,) = inputs["source"]
        origin = payload["origin"]
        where = f"case {case_id} ({origin})"
        flags: list[str] = list(payload.get("flags", []))
        if payload.get("report_text"):
            text = str(payload["report_text"])
            if "\ufffd" in text:
                flags.append("non_utf8_report")
        elif payload.get("report_path"):
            try:
                report = read_report_file(Path(payload["report_path"]))
            except MissingFileError as exc:
                raise MissingFileError(f"{where}: {exc}") from None
            text = report.text
            if report.replaced_bytes:
                flags.append("non_utf8_report")
        else:
            raise MissingReportError(f"{where}: neither report_text nor report_path is given")
        check_report(text, where, self.params.min_report_chars, self.params.min_letter_fraction)

        for slide in payload.get("slide_paths", []):
            if not Path(slide).is_file():
                raise MissingFileError(f"{where}: slide file {slide} does not exist")

        patient = str(payload["patient_id"]).strip().upper() if looks_like_tcga(case_id) else payload["patient_id"]
        project = self._project(payload, patient, where)
        return [
            Case(
                case_id=case_id,
                patient_id=patient,
                project=project,
                slide_paths=list(payload.get("slide_paths", [])),
                report_text=text,
                report_path=payload.get("report_path"),
                report_sha256=sha256_text(text),
                source=origin,
                flags=flags,
                labels=payload.get("labels", {}),
            )
        ]

    def _project(self, payload: dict[str, Any], patient: str, where: str) -> str | None:
        given = payload.get("project")
        given_code = project_code(str(given)) if given and looks_like_tcga(patient) else given
        known = None
        if self.params.projects_csv is not None:
            known = load_patient_projects(self.params.projects_csv).get(patient.upper())
        if given_code and known and given_code != known:
            raise ProjectMismatchError(
                f"{where}: manifest says project {given_code}, {self.params.projects_csv.name} says {known}"
            )
        return given_code or known
