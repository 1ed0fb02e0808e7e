"""Human review of flagged samples: an append-only audit log, the state derived from it, a web page and a CLI."""
