"""The data contracts of pathkg: every record that crosses a stage boundary is one of these models.

JSON Schema files generated from them live in `schemas/json/` (regenerate with
`pathkg schemas write`); Arrow schemas for the Parquet outputs come from `schemas.arrow`.
"""

from schemas.case import Case
from schemas.case_paths import CasePaths
from schemas.entity import Entity
from schemas.extraction import GradeInfo, ReportExtraction
from schemas.failure import FailureRecord
from schemas.generated_chain import GeneratedChain
from schemas.kg_dump import EntityDictionaryEntry, KGDumpManifest, KGEdge, KGNode
from schemas.kg_path import KGPath, KGPathStep
from schemas.linked_case import LinkedCase
from schemas.question import Question
from schemas.review import ReviewDecision
from schemas.run_diff import RunDiff
from schemas.run_summaries import ExportSummary, KGBuildSummary, RunReportSummary
from schemas.sample import ImageRef, Provenance, ReviewState, Sample
from schemas.slide import SlideRecord
from schemas.verification import CheckResult, Verification

#: The models whose JSON Schema is committed under schemas/json/.
CONTRACTS = {
    "case": Case,
    "report_extraction": ReportExtraction,
    "entity": Entity,
    "kg_path": KGPath,
    "sample": Sample,
    "verification": Verification,
    "review_decision": ReviewDecision,
    "failure": FailureRecord,
    "slide": SlideRecord,
    "kg_node": KGNode,
    "kg_edge": KGEdge,
    "kg_dump_manifest": KGDumpManifest,
    "entity_dictionary_entry": EntityDictionaryEntry,
    "linked_case": LinkedCase,
    "case_paths": CasePaths,
    "question": Question,
    "generated_chain": GeneratedChain,
    "export_summary": ExportSummary,
    "run_report_summary": RunReportSummary,
    "kg_build_summary": KGBuildSummary,
    "run_diff": RunDiff,
}

__all__ = [
    "CONTRACTS",
    "Case",
    "CasePaths",
    "CheckResult",
    "Entity",
    "EntityDictionaryEntry",
    "ExportSummary",
    "FailureRecord",
    "GeneratedChain",
    "GradeInfo",
    "ImageRef",
    "KGBuildSummary",
    "KGDumpManifest",
    "KGEdge",
    "KGNode",
    "KGPath",
    "KGPathStep",
    "LinkedCase",
    "Provenance",
    "Question",
    "ReportExtraction",
    "ReviewDecision",
    "ReviewState",
    "RunDiff",
    "RunReportSummary",
    "Sample",
    "SlideRecord",
    "Verification",
]
