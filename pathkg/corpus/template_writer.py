"""The deterministic, offline chain writer (labelled `template` in provenance).

observe: the report's findings, as the observations; think: the KG paths walked relation by
relation, each stated in its stored direction, then the conclusion; answer: what the report says.
"""

from __future__ import annotations

from collections.abc import Sequence

from pathkg.rewards.chain_format import DEFAULT_TAGS, ChainTags
from schemas.kg_path import KGPath
from schemas.question import Question

PROMPT_VERSION = "template-v1"

RELATION_PHRASES = {
    "IS_A": "is a kind of",
    "PART_OF": "is part of",
    "LOCATED_IN": "is located in",
    "SUPPORTS": "supports",
    "ARGUES_AGAINST": "argues against",
    "HAS_COMPONENT": "has the component",
    "DETERMINES": "determines",
    "STAGED_BY": "is staged by",
    "GRADED_BY": "is graded by",
    "DEFINES": "defines",
    "ASSOCIATED_WITH": "is associated with",
}

# Worded so that the conclusion names no KG entity of its own ("the margin status" would assert
# a margin finding the report may have negated): the answer carries the entities.
ANSWER_LABELS = {
    "diagnosis": "the diagnosis",
    "histologic_subtype": "the histologic type",
    "grade": "the grade",
    "t_stage": "the pathologic T category",
    "n_stage": "the pathologic N category",
    "margins": "the answer",
    "lymphovascular_invasion": "the answer",
    "microscopic_description": "the answer",
}


def path_sentence(path: KGPath) -> str:
    """One path as a sentence, every relation read the way the KG states it."""
    clauses = [
        f"{step.source_name} {RELATION_PHRASES.get(step.relation, step.relation.lower().replace('_', ' '))} "
        f"{step.target_name}"
        for step in path.steps
    ]
    return "; ".join(clauses) + "."


def write_chain(
    question: Question,
    findings: Sequence[str],
    paths: Sequence[KGPath],
    max_paths: int = 3,
    tags: ChainTags = DEFAULT_TAGS,
) -> str:
    observe = " ".join(f.strip() for f in findings if f.strip()) or "The report gives no microscopic findings."
    steps = [
        f"Step {i}: {path_sentence(p)[0].upper()}{path_sentence(p)[1:]}" for i, p in enumerate(paths[:max_paths], 1)
    ]
    if steps:
        reasoning = "Following the knowledge graph from the findings: " + " ".join(steps)
    else:
        reasoning = "No knowledge-graph path links these findings to the diagnosis; the findings themselves are used."
    label = ANSWER_LABELS.get(question.question_type, question.question_type.replace("_", " "))
    think = f"{reasoning} Therefore, {label} is: {question.reference_answer}"
    return tags.render(observe, think, question.reference_answer)
