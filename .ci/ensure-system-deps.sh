#!/usr/bin/env bash
# System packages the test suite needs, installed when missing (idempotent, quiet when present).
# - PostgreSQL server binaries: tests use OMSHUB_TEST_PG_URL, else 127.0.0.1:5432, else start a
#   throwaway cluster with initdb/pg_ctl (tests/pgserver.py), which needs the binaries.
set -euo pipefail

have_pg_binaries() { compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null; }
server_answers() { command -v pg_isready > /dev/null && pg_isready -q -h 127.0.0.1 -p 5432 -t 2; }

if [ -n "${OMSHUB_TEST_PG_URL:-}" ] || server_answers || have_pg_binaries; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get > /dev/null; then
  echo "installing PostgreSQL server binaries (apt-get) for the test suite..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql > /dev/null
else
  echo "warning: no PostgreSQL server answers on 127.0.0.1:5432 and no initdb is installed;" >&2
  echo "         set OMSHUB_TEST_PG_URL or install PostgreSQL (the PostgreSQL tests will fail)." >&2
fi
