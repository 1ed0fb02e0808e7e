"""The report excerpt with its linked entities marked up (negated and uncertain ones distinguished)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from schemas.entity import Entity


def highlight(text: str, entities: Sequence[Entity]) -> Markup:
    """`text` as HTML with each entity whose offsets point at its mention wrapped in a `<mark>`.

    Entities whose offsets do not match the text (a different text version) are left out, not misplaced.
    """
    spans = sorted(
        (e for e in entities if 0 <= e.start < e.end <= len(text) and text[e.start : e.end].lower() == e.text.lower()),
        key=lambda e: (e.start, -e.end),
    )
    out: list[str] = []
    at = 0
    for e in spans:
        if e.start < at:  # overlapping mention: keep the first
            continue
        out.append(escape(text[at : e.start]))
        classes = ["ent", f"ent-{escape(e.type.lower())}"]
        label = f"{e.name} · {e.kg_id} · {e.type}"
        if e.negated:
            classes.append("neg")
            label += " · NEGATED"
        if e.uncertain:
            classes.append("unc")
            label += " · uncertain"
        out.append(
            f'<mark class="{" ".join(classes)}" title="{escape(label)}" data-kg-id="{escape(e.kg_id)}">'
            f"{escape(text[e.start : e.end])}</mark>"
        )
        at = e.end
    out.append(escape(text[at:]))
    return Markup("".join(out))
