#!/usr/bin/env bash
# deploy/local/pdf.sh -- what WeasyPrint needs to print the frontend's PDFs (the A4 posters of
# the workers' QR codes): Pango and its FreeType backend, and a Chinese font (the posters are
# Chinese; without one, WeasyPrint draws empty boxes).
#
# Idempotent: installs what is missing with apt-get (needs root); a machine that has it all
# changes nothing. `make install` runs it.
#
# Usage: deploy/local/pdf.sh ensure|check
#   ensure   install what is missing
#   check    exit 1 (naming it) if something is missing, install nothing
set -euo pipefail

SANLIAN_LOG_TAG=pdf.sh
# shellcheck source=deploy/local/_lib.sh
. "$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/_lib.sh"

CJK_FONT=/usr/share/fonts/truetype/wqy/wqy-microhei.ttc
LIBRARIES=(libpango-1.0-0 libpangoft2-1.0-0)

missing_packages() {
  local package
  for package in "${LIBRARIES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
      || printf '%s\n' "$package"
  done
  [[ -e $CJK_FONT ]] || printf '%s\n' fonts-wqy-microhei
}

case ${1:-ensure} in
  ensure)
    mapfile -t missing < <(missing_packages)
    if ((${#missing[@]})); then
      ensure_state_root
      exec 9>"$SANLIAN_STATE_ROOT/pdf.lock"  # two installs at once must not both run apt-get
      flock -w 900 9 || die "another pdf.sh is still installing"
      apt_install "${missing[@]}"
    fi
    ;;
  check)
    mapfile -t missing < <(missing_packages)
    ((${#missing[@]} == 0)) || die "missing for PDFs: ${missing[*]} (run deploy/local/pdf.sh ensure as root)"
    ;;
  *) die "usage: $0 ensure|check" ;;
esac
