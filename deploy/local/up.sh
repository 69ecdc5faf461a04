#!/usr/bin/env bash
# deploy/local/up.sh -- start the local infrastructure (PostgreSQL + Kafka) without
# Docker and print the connection settings the Sanlian services read.
#
# Why: one idempotent entry point for developers and CI; running it again when
# everything is already up is a cheap no-op.
#
# stdout is exactly two lines, usable as an env file or with
#   set -a; eval "$(deploy/local/up.sh)"; set +a
#   SANLIAN_PG_DSN=postgresql://sanlian:sanlian@127.0.0.1:5432/sanlian
#   SANLIAN_KAFKA_BOOTSTRAP=127.0.0.1:9092
# Progress goes to stderr. Ports etc. follow the SANLIAN_* variables documented in
# postgres.sh and kafka.sh.
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)

"$here/postgres.sh" start
"$here/kafka.sh" start

echo "SANLIAN_PG_DSN=$("$here/postgres.sh" dsn)"
echo "SANLIAN_KAFKA_BOOTSTRAP=$("$here/kafka.sh" bootstrap)"
