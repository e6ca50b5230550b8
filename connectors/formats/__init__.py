"""Formats: bytes -> raw records."""
