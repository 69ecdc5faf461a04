#!/usr/bin/env bash
# deploy/local/papers.sh -- what the frontend's PDF papers need from Debian.
#
# Why: WeasyPrint (the HTML-to-PDF renderer, pinned in pyproject.toml) lays text out with
# Pango and HarfBuzz, which are system libraries, and the papers are Chinese: without a CJK
# font their text prints as empty boxes. Idempotent: installs what is missing with apt-get
# (needs root), then prints what it found. `make install` runs it; the Dockerfile installs
# the same packages.
#
# Usage: deploy/local/papers.sh
set -euo pipefail

SANLIAN_LOG_TAG=papers.sh
# shellcheck source=deploy/local/_lib.sh
. "$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/_lib.sh"

# The packages, and a file each one installs (how we tell it is there).
PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig fonts-wqy-microhei)
CJK_FONT=/usr/share/fonts/truetype/wqy/wqy-microhei.ttc

missing() {
  local package
  for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
      || printf '%s\n' "$package"
  done
}

ensure_papers() {
  local wanted
  mapfile -t wanted < <(missing)
  ((${#wanted[@]} == 0)) && return 0
  ensure_state_root
  # chromium.sh installs the same font: the two must not run apt-get at once.
  exec 9>"$SANLIAN_STATE_ROOT/chromium.lock"
  flock -w 900 9 || die "another install is still running apt-get"
  mapfile -t wanted < <(missing)
  ((${#wanted[@]} == 0)) || apt_install "${wanted[@]}"
  exec 9>&-
  [[ -e $CJK_FONT ]] || die "the CJK font is not installed after apt-get"
}

command -v dpkg-query >/dev/null 2>&1 || { log "not a Debian system: install Pango and a CJK font by hand"; exit 0; }
ensure_papers
log "Pango, HarfBuzz and a CJK font for the papers are installed"
