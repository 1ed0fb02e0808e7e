"""LLM access through the `openai` client against any OpenAI-compatible endpoint (vLLM in production)."""
