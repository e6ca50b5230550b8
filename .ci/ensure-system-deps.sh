#!/usr/bin/env bash
# System packages the test suite needs, installed when missing (idempotent, quiet when present).
# - PostgreSQL server binaries: tests use OMSHUB_TEST_PG_URL, else 127.0.0.1:5432, else start a
#   throwaway cluster with initdb/pg_ctl (tests/pgserver.py), which needs the binaries.
# - redis-server: the CeleryExecutor cluster tests (tests/cluster) use OMSHUB_TEST_REDIS_URL,
#   else a Redis on 127.0.0.1:6379, else start their own redis-server on a free port.
# - openssh-server: the SFTP tests (tests/sshserver.py) start their own `/usr/sbin/sshd` on a
#   free loopback port (never the system's sshd; the package does not need to run).
# - gcc: `make install` builds the X12 reader's optional compiled splitter with it; the suite
#   compares it with the Python one, so the suite needs it built (run before the install).
set -euo pipefail

have_pg_binaries() { compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null; }
pg_answers() { command -v pg_isready > /dev/null && pg_isready -q -h 127.0.0.1 -p 5432 -t 2; }
redis_answers() {
  # PING on 127.0.0.1:6379 with bash's /dev/tcp (redis-cli may be what is missing)
  local reply=""
  { exec 3<> /dev/tcp/127.0.0.1/6379; } 2> /dev/null || return 1
  printf 'PING\r\n' >&3
  read -r -t 2 reply <&3 || true
  exec 3>&-
  [[ "$reply" == +PONG* ]]
}

missing=()
if [ -z "${OMSHUB_TEST_PG_URL:-}" ] && ! pg_answers && ! have_pg_binaries; then
  missing+=(postgresql)
fi
if [ -z "${OMSHUB_TEST_REDIS_URL:-}" ] && ! redis_answers && ! command -v redis-server > /dev/null; then
  missing+=(redis-server)
fi
if [ ! -x /usr/sbin/sshd ]; then
  missing+=(openssh-server)
fi
if ! command -v cc > /dev/null && ! command -v gcc > /dev/null; then
  missing+=(gcc)
fi
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get > /dev/null; then
  echo "installing ${missing[*]} (apt-get) for the test suite..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" > /dev/null
else
  echo "warning: ${missing[*]} missing and cannot be installed here (not root, or no apt-get)." >&2
  echo "         set OMSHUB_TEST_PG_URL / OMSHUB_TEST_REDIS_URL or install them;" >&2
  echo "         the PostgreSQL, cluster and SFTP tests will fail." >&2
fi
