"""Versioned prompt files of the rewards (the LLM judge's rubric)."""
