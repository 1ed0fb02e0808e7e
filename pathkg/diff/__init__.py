"""Run-to-run diffs: which samples a regenerated corpus adds, removes and changes, and why (`pathkg diff`)."""
