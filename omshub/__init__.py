"""The application layer: source configuration, landing, the sync pipeline and the CLI.

It wires `connectors`, `transforms` and `oms` together; the Airflow DAGs and the CLI both
call `omshub.pipeline`, so a run from either is the same code path (DESIGN.md §2).
"""
