"""Building the reasoning corpus: questions, chains (template or LLM), samples."""
