"""Connectors: transports (where bytes come from) and formats (bytes -> raw records).

A connector never knows the canonical model (DESIGN.md §1).
"""
