#!/usr/bin/env bash
# Installs the Debian packages Gongzhi needs (PDF rendering, CJK fonts, PDF tools, the test browser)
# when they are missing. Without apt (or without root) it prints exactly what to install and goes on.
set -euo pipefail
packages=(libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk libharfbuzz-subset0 poppler-utils libnss3-tools chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "Installing Debian packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  echo "Installing Debian packages: ${missing[*]}"
  sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "WARNING: these system packages are missing; install them with your package manager:" >&2
  echo "  apt-get install ${missing[*]}" >&2
  echo "(browser tests are skipped without /usr/bin/chromium; PDF features need pango and fonts-noto-cjk)" >&2
fi
