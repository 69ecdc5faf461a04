#!/usr/bin/env bash
# deploy/local/vegeta.sh -- the HTTP load generator of the benchmarks (vegeta, built from source).
#
# Why vegeta: the HTTP rows drive POST /contacts at fixed rates (open loop). vegeta sends on a
# schedule whatever the answers' pace (a slow answer does not hold back the next request, so a
# latency under load is not hidden: no coordinated omission), reads one target per request
# (each with its own body and headers: a fresh Idempotency-Key and the bearer token), and
# reports the latency percentiles and status codes as JSON. Debian's wrk is closed loop (each
# connection waits for its answer), and wrk2, the open-loop fork, is not packaged.
#
# Built with the Go toolchain (GO, default: go on the PATH, else /usr/local/go/bin/go) from the
# Go module proxy at the pinned version into .tools/bin/vegeta; idempotent (a binary of the
# pinned version is kept). `make bench` and `make bench-quick` run it first.
#
# Usage: deploy/local/vegeta.sh          (prints the binary's path on stdout)
set -euo pipefail

SANLIAN_LOG_TAG=vegeta.sh
# shellcheck source=deploy/local/_lib.sh
. "$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/_lib.sh"

VEGETA_MODULE=github.com/tsenart/vegeta/v12
VEGETA_VERSION=v12.13.0
BIN_DIR=${SANLIAN_TOOLS_BIN:-$SANLIAN_REPO_ROOT/.tools/bin}
BINARY=$BIN_DIR/vegeta
STAMP=$BIN_DIR/.vegeta-version

if [[ -x $BINARY && -e $STAMP && $(cat "$STAMP") == "$VEGETA_VERSION" ]]; then
  printf '%s\n' "$BINARY"
  exit 0
fi

GO=${GO:-$(command -v go || true)}
[[ -n $GO ]] || GO=/usr/local/go/bin/go
[[ -x $GO ]] || die "no Go toolchain (set GO=/path/to/go, or install Go 1.22+): vegeta is built from source"

mkdir -p "$BIN_DIR"
log "building vegeta $VEGETA_VERSION with $("$GO" version | cut -d' ' -f3) (one-time)"
GOBIN=$BIN_DIR CGO_ENABLED=0 "$GO" install "$VEGETA_MODULE@$VEGETA_VERSION" >&2 \
  || die "go install $VEGETA_MODULE@$VEGETA_VERSION failed"
printf '%s\n' "$VEGETA_VERSION" >"$STAMP"
printf '%s\n' "$BINARY"
