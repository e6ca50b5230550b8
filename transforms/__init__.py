"""Mapping compiler, named transforms, code lists and validations (source shape -> canonical)."""
