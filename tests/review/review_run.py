"""A small real run for review tests: real samples (linked and verified by the real linker and verifier
over a small KG dictionary), real PNG images, run through the real runner's export stage."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from PIL import Image, ImageDraw
from rich.console import Console

from pathkg.kg.entity_dictionary import DICTIONARY_SCHEMA
from pathkg.linking.entity_linker import DictionaryTerm, EntityLinker
from pathkg.verify.chain_verifier import ChainVerifier
from pipelines.config import load_config
from pipelines.runner import Runner
from schemas import ImageRef, KGPath, KGPathStep, Provenance, Sample
from schemas.verification import Verification

TERMS = [
    DictionaryTerm("keratin pearls", "PKG:keratin_pearls", "Finding", "keratin pearls", "name"),
    DictionaryTerm("intercellular bridges", "PKG:intercellular_bridges", "Finding", "intercellular bridges", "name"),
    DictionaryTerm("squamous differentiation", "PKG:squamous_diff", "Finding", "squamous differentiation", "name"),
    DictionaryTerm("squamous cell carcinoma", "NCIT:C2929", "Disease", "squamous cell carcinoma", "name"),
    DictionaryTerm("adenocarcinoma", "NCIT:C2852", "Disease", "adenocarcinoma", "name"),
    DictionaryTerm("gland formation", "PKG:gland_formation", "Finding", "gland formation", "name"),
    DictionaryTerm("necrosis", "PKG:necrosis", "Finding", "tumour necrosis", "name"),
    DictionaryTerm("lung", "UBERON:lung", "Anatomy", "lung", "name"),
]
FINDINGS = ["Keratin pearls and intercellular bridges are seen in the lung.", "There is no necrosis."]
DIAGNOSIS = "Squamous cell carcinoma of the lung"
GOOD_CHAIN = (
    "<observe>Keratin pearls and intercellular bridges are seen in the lung.</observe>\n"
    "<think>Keratin pearls and intercellular bridges show squamous differentiation, which supports "
    "squamous cell carcinoma.</think>\n<answer>squamous cell carcinoma</answer>"
)
#: What each flagged sample's chain gets wrong (the verifier flags each for a different reason).
FLAWED = {
    "necrosis": GOOD_CHAIN.replace("in the lung.</observe>", "in the lung, with necrosis.</observe>"),
    "hallucination": GOOD_CHAIN.replace(
        "squamous cell carcinoma.</think>",
        "squamous cell carcinoma rather than adenocarcinoma with gland formation.</think>",
    ),
    "thin": "<observe>Tumour cells are seen.</observe>\n<think>The picture fits.</think>\n"
    "<answer>squamous cell carcinoma</answer>",
}
PATHS = [
    KGPath(
        start_id="PKG:keratin_pearls",
        end_id="NCIT:C2929",
        kg_version="kg-test",
        steps=[
            KGPathStep(
                source_id="PKG:keratin_pearls",
                relation="SUPPORTS",
                target_id="NCIT:C2929",
                source_name="keratin pearls",
                target_name="squamous cell carcinoma",
            )
        ],
    ),
    KGPath(
        start_id="PKG:intercellular_bridges",
        end_id="NCIT:C2929",
        kg_version="kg-test",
        steps=[
            KGPathStep(
                source_id="PKG:intercellular_bridges",
                relation="SUPPORTS",
                target_id="PKG:squamous_diff",
                source_name="intercellular bridges",
                target_name="squamous differentiation",
            ),
            KGPathStep(
                source_id="PKG:squamous_diff",
                relation="SUPPORTS",
                target_id="NCIT:C2929",
                source_name="squamous differentiation",
                target_name="squamous cell carcinoma",
            ),
        ],
    ),
    KGPath(
        start_id="UBERON:lung",
        end_id="NCIT:C2929",
        kg_version="kg-test",
        steps=[
            KGPathStep(
                source_id="NCIT:C2929",
                relation="LOCATED_IN",
                target_id="UBERON:lung",
                reversed=True,
                source_name="squamous cell carcinoma",
                target_name="lung",
            )
        ],
    ),
]


def write_kg_dump(dump_dir: Path) -> Path:
    dump_dir.mkdir(parents=True, exist_ok=True)
    rows = [
        {"term": t.term, "node_id": t.node_id, "node_type": t.node_type, "name": t.name, "kind": t.kind} for t in TERMS
    ]
    pq.write_table(pa.Table.from_pylist(rows, schema=DICTIONARY_SCHEMA), dump_dir / "entity_dictionary.parquet")
    return dump_dir


def _images(run_dir: Path, case_id: str, seed: int) -> list[ImageRef]:
    folder = run_dir / "work" / "slides" / case_id
    folder.mkdir(parents=True, exist_ok=True)
    thumb = Image.new("RGB", (320, 240), (244, 236, 240))
    draw = ImageDraw.Draw(thumb)
    draw.ellipse((40 + seed * 7, 30, 260, 210), fill=(196, 120 + seed * 9, 180))
    draw.ellipse((110, 80 + seed * 5, 200, 170), fill=(120, 60, 140))
    thumb.save(folder / "thumbnail.png")
    refs = [ImageRef(path=f"work/slides/{case_id}/thumbnail.png", kind="thumbnail", level=2, width=320, height=240)]
    for t in range(3):
        tile = Image.new("RGB", (128, 128), (230, 200 - t * 30, 220))
        ImageDraw.Draw(tile).rectangle((20 + t * 10, 20, 100, 100 - t * 10), fill=(140, 70 + t * 40, 160))
        tile.save(folder / f"tile_{t}.png")
        refs.append(
            ImageRef(
                path=f"work/slides/{case_id}/tile_{t}.png",
                kind="tile",
                level=0,
                magnification=20.0,
                x=1024 * t,
                y=512,
                width=128,
                height=128,
            )
        )
    return refs


def build_samples(run_dir: Path) -> list[Sample]:
    """Two passing samples and one flagged sample per flaw, each its own case with its own images."""
    linker = EntityLinker(TERMS)
    verifier = ChainVerifier(linker)
    description = linker.link(" ".join(FINDINGS))
    diagnosis = linker.link(DIAGNOSIS)
    chains = [("pass-1", GOOD_CHAIN), ("pass-2", GOOD_CHAIN), *FLAWED.items()]
    samples = []
    for i, (label, chain) in enumerate(chains):
        case_id = f"TCGA-RV-{i:04d}"
        question = "What is the diagnosis of this lung tumour?"
        verification: Verification = verifier.verify(
            chain, "squamous cell carcinoma", "diagnosis", description, diagnosis, PATHS, question
        )
        samples.append(
            Sample(
                sample_id=f"rv{i:02d}-{label}",
                case_id=case_id,
                patient_id=case_id,
                project="TCGA-LUSC" if i % 2 == 0 else "TCGA-HNSC",
                scale="wsi",
                images=_images(run_dir, case_id, i),
                question_type="diagnosis",
                question=question,
                findings=FINDINGS,
                diagnosis=DIAGNOSIS,
                response=chain,
                answer="squamous cell carcinoma",
                description_entities=description,
                diagnosis_entities=diagnosis,
                kg_paths=PATHS,
                verification=verification,
                provenance=Provenance(
                    report_sha256="a" * 64,
                    kg_version="kg-test",
                    generator_backend="template",
                    prompt_version="template-v1",
                    run_id="review-test",
                    code_version="0.1.0",
                ),
            )
        )
    return samples


def build_run(run_dir: Path) -> tuple[Path, Path, list[Sample]]:
    """Run the real runner (a sample source + the export stage) over the samples: (config, kg dump, samples)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    samples = build_samples(run_dir)
    source = run_dir.parent / f"{run_dir.name}-samples.jsonl"
    source.write_text("".join(s.model_dump_json() + "\n" for s in samples), encoding="utf-8")
    config = run_dir.parent / f"{run_dir.name}-config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "name": "review-test",
                "run": {"workers": 1},
                "stages": [
                    {
                        "name": "samples",
                        "uses": "tests.review.sample_source_stage:SampleSourceStage",
                        "after": [],
                        "params": {"path": str(source)},
                    },
                    {"name": "export", "after": ["samples"]},
                ],
            }
        ),
        encoding="utf-8",
    )
    run_pipeline(config, run_dir)
    return config, write_kg_dump(run_dir / "kg" / "dump"), samples


def run_pipeline(config: Path, run_dir: Path) -> dict[str, int]:
    """Run (or resume) the pipeline; stage name -> how many items this invocation ran."""
    runner = Runner(load_config(config), run_dir, workers=1, show_progress=False, console=Console(quiet=True))
    statuses = runner.run()
    failed = [s for s in statuses if s.failed]
    assert not failed, f"pipeline failures: {failed}"
    return {s.stage: s.ran for s in statuses}
