#!/usr/bin/env bash
# Installs what is missing: npm packages (npm ci when the lock changed) and, with --apt as root,
# the Debian packages the tests drive (Chromium, SIP peers, RTMP server, ffmpeg).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(chromium ffmpeg kamailio baresip-core baresip-ffmpeg sip-tester nginx libnginx-mod-rtmp tshark iproute2)

if [[ "${1:-}" == "--apt" ]]; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]]; then
      echo "ensure-deps: installing Debian packages: ${missing[*]}"
      export DEBIAN_FRONTEND=noninteractive
      apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null
      apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}" >/dev/null
    else
      echo "ensure-deps: missing Debian packages (run as root or: sudo apt-get install ${missing[*]})" >&2
      exit 1
    fi
  fi
fi

# npm ci when node_modules is absent or older than the lock file.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "ensure-deps: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
