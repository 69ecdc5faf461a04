# shellcheck shell=bash
# Shared helpers for the deploy/local/*.sh scripts (sourced, not executed).
#
# Conventions kept by every script that sources this file:
#   * human-readable progress and errors go to stderr (log/die),
#   * stdout carries only machine-readable answers (a DSN, host:port, a version),
#   * nothing about this particular machine is baked in: paths derive from the
#     script location, ports/dirs from SANLIAN_* environment variables.

SANLIAN_LOCAL_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
SANLIAN_REPO_ROOT=$(cd -- "$SANLIAN_LOCAL_DIR/../.." && pwd)
# shellcheck disable=SC2034  # used by the scripts that source this file
SANLIAN_STATE_ROOT=${SANLIAN_STATE_DIR:-$SANLIAN_REPO_ROOT/.local}
# shellcheck disable=SC2034
SANLIAN_CACHE_ROOT=${SANLIAN_CACHE_DIR:-${HOME:?neither SANLIAN_CACHE_DIR nor HOME is set}/.cache/sanlian}

log() { printf '%s: %s\n' "${SANLIAN_LOG_TAG:-sanlian}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

is_root() { [[ $(id -u) -eq 0 ]]; }

# Make sure the state root exists and never ends up in a commit: the directory
# carries its own "ignore everything" .gitignore.
ensure_state_root() {
  mkdir -p "$SANLIAN_STATE_ROOT"
  [[ -e $SANLIAN_STATE_ROOT/.gitignore ]] || printf '*\n' >"$SANLIAN_STATE_ROOT/.gitignore"
}

# apt_install PKG... -- install Debian packages non-interactively (root only).
# `apt-get update` first, because a fresh machine/container has no package lists.
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "cannot install $*: apt-get not available; install it by hand"
  is_root || die "cannot install $*: run as root (or install it by hand: apt-get install $*)"
  log "installing $* with apt-get (one-time)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "$@" >&2 || die "apt-get install $* failed"
}

# tcp_open HOST PORT -- true if something accepts TCP connections on HOST:PORT.
tcp_open() {
  # shellcheck disable=SC2016  # $0/$1 are expanded by the inner bash
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}
