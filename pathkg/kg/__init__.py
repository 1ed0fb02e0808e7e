"""The knowledge graph: dump format, builders from ontologies and the curated seed, and the stores."""
