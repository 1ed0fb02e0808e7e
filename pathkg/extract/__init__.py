"""Structured extraction from pathology reports: preparation (scrub, normalise, split) and rules."""
