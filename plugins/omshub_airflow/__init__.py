"""omshub's Airflow face: the DAG factory and the small operators it uses.

Thin by design (STYLE.md §3): tasks call `omshub.pipeline` functions, which the CLI calls
too, and turn omshub's error families into Airflow's retry/fail decisions.
"""
