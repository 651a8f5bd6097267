#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine with Python 3.11+ and Node 20+:
# the package with its test extras, Debian's Chromium for page tests, and the independent
# verifiers used as test oracles (each in its own place, never as runtime dependencies).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'

# Debian's Chromium for the page tests, and fonts so that CJK and emoji names render in them;
# shellcheck, which actionlint runs on the workflows' shell steps.
debs="chromium fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji shellcheck"
if ! dpkg -s $debs >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $debs >/dev/null
  else
    echo "install Debian's packages for the page tests: sudo apt-get install $debs" >&2
    exit 1
  fi
fi

for script in tests/oracles/install_*.sh; do
  [ -f "$script" ] && bash "$script"
done
if [ -f tests/oracles/js/package-lock.json ]; then
  npm ci --prefix tests/oracles/js --no-audit --no-fund --loglevel=error
fi
