"""The Hugging Face export: Parquet shards, a dataset card, three configs (default, sft, rl)."""
