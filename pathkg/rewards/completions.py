"""TRL hands rewards either plain strings or chat turns; both become the assistant's text."""

from __future__ import annotations

from typing import Any


def completion_text(completion: Any) -> str:
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list):  # conversational: [{"role": "assistant", "content": ...}, ...]
        parts = []
        for turn in completion:
            content = turn.get("content") if isinstance(turn, dict) else turn
            if isinstance(content, list):  # multimodal content blocks
                content = "".join(c.get("text", "") for c in content if isinstance(c, dict))
            parts.append(str(content or ""))
        return "".join(parts)
    if isinstance(completion, dict):
        return str(completion.get("content", ""))
    raise TypeError(f"cannot read a completion of type {type(completion).__name__}")
