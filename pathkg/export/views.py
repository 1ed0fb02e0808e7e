"""The three configs of the export: the full sample, the SFT chat view and the RL view.

`sft` rows are chat messages with images in the shape TRL's SFTTrainer takes for vision-language
models; `rl` rows carry the prompt and what the rewards need (reference answer, question type,
reference entity ids) as columns, the way GRPOTrainer passes them to reward functions.
"""

from __future__ import annotations

from typing import Any

from datasets import Features, Image, List, Value

from schemas.arrow import arrow_schema
from schemas.sample import Sample

INSTRUCTION = (
    "Examine the pathology image(s) and answer the question. Reply in exactly this format: "
    "<observe>what you see</observe>\n<think>your reasoning, step by step</think>\n<answer>the answer</answer>"
)

_MESSAGE = {
    "role": Value("string"),
    "content": List({"type": Value("string"), "text": Value("string")}),
}
_IMAGE_META = {
    "path": Value("string"),
    "kind": Value("string"),
    "level": Value("int64"),
    "magnification": Value("float64"),
    "x": Value("int64"),
    "y": Value("int64"),
    "width": Value("int64"),
    "height": Value("int64"),
}


def default_features() -> Features:
    """Every Sample field, with `images` as decoded Image features and their metadata beside them."""
    features = Features.from_arrow_schema(arrow_schema(Sample))
    features["images"] = List(Image())
    features["image_meta"] = List(_IMAGE_META)
    return features


SFT_FEATURES = Features(
    {
        "sample_id": Value("string"),
        "patient_id": Value("string"),
        "messages": List(_MESSAGE),
        "images": List(Image()),
    }
)

RL_FEATURES = Features(
    {
        "sample_id": Value("string"),
        "patient_id": Value("string"),
        "prompt": List(_MESSAGE),
        "images": List(Image()),
        "answer": Value("string"),
        "question_type": Value("string"),
        "gt_entity_ids": List(Value("string")),
    }
)


def user_turn(question: str, n_images: int) -> dict[str, Any]:
    content = [{"type": "image", "text": None} for _ in range(n_images)]
    content.append({"type": "text", "text": f"{question}\n\n{INSTRUCTION}"})
    return {"role": "user", "content": content}


def reference_entity_ids(sample: Sample) -> list[str]:
    """The ground-truth entities: every KG entity the findings and diagnosis assert (not negated)."""
    ids = [e.kg_id for e in (*sample.description_entities, *sample.diagnosis_entities) if not e.negated]
    return list(dict.fromkeys(ids))


def sft_view(
    sample_id: str, patient_id: str, question: str, response: str, images: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "sample_id": sample_id,
        "patient_id": patient_id,
        "messages": [
            user_turn(question, len(images)),
            {"role": "assistant", "content": [{"type": "text", "text": response}]},
        ],
        "images": images,
    }


def rl_view(
    sample_id: str,
    patient_id: str,
    question: str,
    images: list[dict[str, Any]],
    answer: str,
    question_type: str,
    gt_entity_ids: list[str],
) -> dict[str, Any]:
    return {
        "sample_id": sample_id,
        "patient_id": patient_id,
        "prompt": [user_turn(question, len(images))],
        "images": images,
        "answer": answer,
        "question_type": question_type,
        "gt_entity_ids": gt_entity_ids,
    }


def sft_row(sample: Sample, images: list[dict[str, Any]]) -> dict[str, Any]:
    """The SFT row of one sample (the export builds the same rows from Arrow columns)."""
    return sft_view(sample.sample_id, sample.patient_id, sample.question, sample.response, images)


def rl_row(sample: Sample, images: list[dict[str, Any]]) -> dict[str, Any]:
    """The RL row of one sample (the export builds the same rows from Arrow columns)."""
    return rl_view(
        sample.sample_id,
        sample.patient_id,
        sample.question,
        images,
        sample.answer,
        sample.question_type,
        reference_entity_ids(sample),
    )
