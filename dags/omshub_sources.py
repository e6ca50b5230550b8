"""One DAG per source system, generated from config/sources/*.yaml.

A new source is a new YAML file; its DAG appears on the next parse. `omshub config`
validation runs in CI, so a broken YAML is caught before it reaches the scheduler.
"""

from omshub_airflow.factory import build_all

globals().update(build_all())
