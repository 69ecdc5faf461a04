#!/usr/bin/env bash
# deploy/local/down.sh -- stop the local infrastructure started by up.sh
# (Kafka first, then PostgreSQL). Data is kept: the Kafka state stays under
# ${SANLIAN_STATE_DIR:-<repo>/.local}/kafka and the PostgreSQL cluster stays
# configured, so the next up.sh resumes where this one left off.
#
# Both are attempted even if one fails; the exit status is non-zero if either did.
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
rc=0
"$here/kafka.sh" stop || rc=1
"$here/postgres.sh" stop || rc=1
exit "$rc"
