"""TCGA identifiers and reference tables."""
