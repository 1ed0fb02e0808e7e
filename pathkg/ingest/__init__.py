"""Reading cases from manifests and folders (the ingest stage's library)."""
