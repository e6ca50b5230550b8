#!/usr/bin/env bash
# First start of the postgres container: the roles and databases the compose file names.
# `airflow`: Airflow's metadata DB and Celery's result backend; `omshub`: the store.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" \
  -v airflow_pw="$AIRFLOW_DB_PASSWORD" -v omshub_pw="$OMSHUB_DB_PASSWORD" <<'SQL'
CREATE ROLE airflow LOGIN PASSWORD :'airflow_pw';
CREATE ROLE omshub LOGIN PASSWORD :'omshub_pw';
CREATE DATABASE airflow OWNER airflow;
CREATE DATABASE omshub OWNER omshub;
SQL
