#!/usr/bin/env bash
# deploy/local/compose.sh -- check a Compose file without a Docker engine.
#
# Why: the machines that build and test Sanlian have no Docker engine, yet
# docker-compose.yml must stay valid. Debian's docker-compose package parses,
# validates (against the Compose schema it ships) and normalises a file with
# `docker-compose config`, which needs no engine. It is installed once.
#
# Usage: deploy/local/compose.sh check|config|services|version [FILE]
#   check    exit 0 if FILE (default: <repo>/docker-compose.yml) is valid, else print why
#   config   print FILE as docker-compose normalises it (YAML)
#   services print the names of FILE's services, one per line
#   version  print the docker-compose version
set -euo pipefail

SANLIAN_LOG_TAG=compose.sh
# shellcheck source=deploy/local/_lib.sh
. "$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/_lib.sh"

ensure_installed() {
  command -v docker-compose >/dev/null 2>&1 && return 0
  log "docker-compose not found"
  apt_install docker-compose
  command -v docker-compose >/dev/null 2>&1 || die "docker-compose still missing after installing it"
}

file=${2:-$SANLIAN_REPO_ROOT/docker-compose.yml}
[[ ${1:-} == version || -f $file ]] || die "no such file: $file"

case ${1:-} in
  check)
    ensure_installed
    # --project-directory: relative paths (the build context) resolve next to the file.
    docker-compose -f "$file" --project-directory "$(dirname -- "$file")" config -q
    ;;
  config)
    ensure_installed
    docker-compose -f "$file" --project-directory "$(dirname -- "$file")" config
    ;;
  services)
    ensure_installed
    docker-compose -f "$file" --project-directory "$(dirname -- "$file")" config --services
    ;;
  version)
    ensure_installed
    docker-compose version --short
    ;;
  *)
    echo "usage: $0 check|config|services|version [FILE]" >&2
    exit 2
    ;;
esac
