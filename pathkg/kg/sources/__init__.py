"""Builders: each reads one source and returns its nodes and edges as plain rows (`SourceGraph`)."""
