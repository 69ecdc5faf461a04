#!/usr/bin/env bash
# deploy/local/chromium.sh -- the Chromium the staff frontend's browser tests drive.
#
# Why: Playwright cannot download its own browsers everywhere (no network to its CDN), so the
# tests drive Debian's `chromium` package instead, with a Chinese font (the pages are Chinese
# first; without one, screenshots show empty boxes). Idempotent: installs what is missing with
# apt-get (needs root), then prints the executable's path or version.
#
# Usage: deploy/local/chromium.sh path|version
#   path     install if missing, print the executable's path (stdout)
#   version  install if missing, print `chromium --version`
set -euo pipefail

SANLIAN_LOG_TAG=chromium.sh
# shellcheck source=deploy/local/_lib.sh
. "$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/_lib.sh"

find_chromium() {
  local candidate
  for candidate in /usr/bin/chromium /usr/bin/chromium-browser; do
    [[ -x $candidate ]] && { printf '%s\n' "$candidate"; return 0; }
  done
  return 1
}

CJK_FONT=/usr/share/fonts/truetype/wqy/wqy-microhei.ttc

ensure_chromium() {
  find_chromium >/dev/null && [[ -e $CJK_FONT ]] && return 0
  ensure_state_root
  # Two test runs at once must not both run apt-get.
  exec 9>"$SANLIAN_STATE_ROOT/chromium.lock"
  flock -w 900 9 || die "another chromium.sh is still installing"
  local missing=()
  find_chromium >/dev/null || missing+=(chromium)
  [[ -e $CJK_FONT ]] || missing+=(fonts-wqy-microhei)
  ((${#missing[@]} == 0)) || apt_install "${missing[@]}"
  exec 9>&-
  find_chromium >/dev/null || die "chromium is not installed after apt-get"
}

case ${1:-path} in
  path) ensure_chromium; find_chromium ;;
  version) ensure_chromium; "$(find_chromium)" --version ;;
  *) die "usage: $0 path|version" ;;
esac
