"""Label Studio interop: the queue as Label Studio tasks, and its annotations back as audit-logged decisions.

Export writes a task list (`[{"id", "data": {...}, "meta": {...}}]`) and the labelling config that goes with
it (`LABEL_CONFIG`: a decision choice, a reject-reason choice, a free-text note and the editable chain).
Import reads Label Studio's JSON export (tasks with `annotations`); each annotation becomes one decision by
`labelstudio:<who>`, with a stable id, so importing the same file twice adds nothing.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pathkg.review.review_desk import ReviewDesk, ReviewError

LABEL_CONFIG = """<View>
  <Image name="thumbnail" value="$image"/>
  <Header value="$question"/>
  <Text name="findings" value="$findings"/>
  <Text name="flags" value="$flag_reasons"/>
  <Choices name="decision" toName="findings" choice="single" required="true">
    <Choice value="accept"/><Choice value="reject"/><Choice value="edit"/>
  </Choices>
  <Choices name="reason" toName="findings" choice="single">
    <Choice value="wrong_answer"/><Choice value="hallucinated_entity"/><Choice value="negation_error"/>
    <Choice value="unsupported_reasoning"/><Choice value="image_mismatch"/><Choice value="report_error"/>
    <Choice value="phi"/><Choice value="other"/>
  </Choices>
  <TextArea name="response" toName="findings" value="$response" editable="true" maxSubmissions="1"/>
  <TextArea name="note" toName="findings"/>
</View>
"""


def export_tasks(desk: ReviewDesk, image_url_prefix: str = "/data/local-files/?d=") -> list[dict[str, Any]]:
    tasks = []
    for i, st in enumerate(desk.states().values(), start=1):
        s = st.sample
        thumb = next((img.path for img in s.images if img.kind == "thumbnail"), None)
        tasks.append(
            {
                "id": i,
                "data": {
                    "sample_id": s.sample_id,
                    "case_id": s.case_id,
                    "image": f"{image_url_prefix}{thumb}" if thumb else "",
                    "question": s.question,
                    "findings": " ".join(s.findings),
                    "diagnosis": s.diagnosis,
                    "response": st.response,
                    "flag_reasons": "; ".join(s.verification.reasons),
                },
                "meta": {"status": st.status, "version": st.version},
            }
        )
    return tasks


def _results(annotation: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for r in annotation.get("result") or []:
        value = r.get("value") or {}
        if value.get("choices"):
            out[r.get("from_name")] = value["choices"][0]
        elif "text" in value:
            text = value["text"]
            out[r.get("from_name")] = "\n".join(text) if isinstance(text, list) else str(text)
    return out


def _who(annotation: dict[str, Any]) -> str:
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        who = who.get("email") or who.get("id")
    return "labelstudio:" + re.sub(r"[^A-Za-z0-9._@-]", "_", str(who or "unknown"))[:48]


def import_annotations(desk: ReviewDesk, tasks: list[dict[str, Any]]) -> tuple[int, list[str]]:
    """Record every annotation not imported before; (how many recorded, problems naming task and annotation)."""
    known = {d.decision_id for d in desk.log.read().decisions}
    recorded, problems = 0, []
    for task in tasks:
        sample_id = (task.get("data") or {}).get("sample_id")
        for ann in task.get("annotations") or []:
            if ann.get("was_cancelled"):
                continue
            decision_id = uuid.uuid5(uuid.NAMESPACE_URL, f"labelstudio:{sample_id}:{ann.get('id')}").hex
            if decision_id in known:
                continue
            where = f"task {task.get('id')} annotation {ann.get('id')}"
            res = _results(ann)
            created = ann.get("created_at")
            when = datetime.fromisoformat(created.replace("Z", "+00:00")) if created else datetime.now(UTC)
            try:
                version = desk.state(str(sample_id)).version
                common = {"decision_id": decision_id, "time": when, "via": "labelstudio", "note": res.get("note")}
                kind = res.get("decision")
                if kind == "accept":
                    desk.accept(str(sample_id), _who(ann), version, **common)
                elif kind == "reject":
                    desk.reject(str(sample_id), _who(ann), version, res.get("reason") or "other", **common)
                elif kind == "edit" and res.get("response"):
                    desk.edit(str(sample_id), _who(ann), version, res["response"], **common)
                else:
                    raise ReviewError(f"no usable decision in {sorted(res)}")
                recorded += 1
                known.add(decision_id)
            except (ReviewError, ValueError) as exc:
                problems.append(f"{where} (sample {sample_id}): {exc}")
    return recorded, problems


def write_tasks(desk: ReviewDesk, out: Path, image_url_prefix: str = "/data/local-files/?d=") -> int:
    tasks = export_tasks(desk, image_url_prefix)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(tasks, indent=2, ensure_ascii=False), encoding="utf-8")
    out.with_name(out.stem + ".label_config.xml").write_text(LABEL_CONFIG, encoding="utf-8")
    return len(tasks)
