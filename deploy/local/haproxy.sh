#!/usr/bin/env bash
# deploy/local/haproxy.sh -- the load balancer in front of several instances of each
# HTTP service: HAProxy from Debian's packages.
#
# Why HAProxy: it checks each instance's /ready actively (an instance that stops being
# ready leaves the rotation within a couple of seconds, before a client meets it) and
# sends a request whose connection failed to another instance. The configuration is
# written by the topology (`sanlian-stack up --instances N`, the fault tier), which
# knows the instances; this script only makes sure the program is there.
#
# Usage: deploy/local/haproxy.sh ensure|version
#   ensure   install haproxy with apt-get if it is missing (root), print its path
#   version  print the version of the installed haproxy
set -euo pipefail

SANLIAN_LOG_TAG=haproxy.sh
# shellcheck source=deploy/local/_lib.sh
. "$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/_lib.sh"

find_haproxy() {
  local candidate
  for candidate in "$(command -v haproxy || true)" /usr/sbin/haproxy; do
    if [[ -n $candidate && -x $candidate ]]; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  return 1
}

cmd_ensure() {
  local path
  if ! path=$(find_haproxy); then
    apt_install haproxy
    path=$(find_haproxy) || die "still no haproxy after installing the package"
  fi
  printf '%s\n' "$path"
}

cmd_version() {
  "$(cmd_ensure)" -v | sed -n 's/^HAProxy version \([^ ]*\).*/\1/p'
}

case ${1:-} in
  ensure) cmd_ensure ;;
  version) cmd_version ;;
  *)
    echo "usage: $0 ensure|version" >&2
    exit 2
    ;;
esac
