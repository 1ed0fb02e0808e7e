"""Filesystem primitives shared by every stage."""
