"""The run report: what a data engineer reads after a run (HTML + PNG plots)."""
