"""pathkg: knowledge-graph-grounded pathology reasoning data, from slides and reports to training."""

__version__ = "0.1.0"
