#!/usr/bin/env bash
# Installs the Debian packages Customer 360 needs to build, run and test, when they are missing:
#   libsqlite3-dev  GRDB links the system SQLite
#   make            the Makefile drives the tests
#   python3-venv    the Python client's smoke test runs in clients/python/.venv
#   chromium        the dashboard's browser test drives headless Chromium
# protoc is only needed to regenerate contracts (scripts/generate-contracts.sh), not to build or test.
set -euo pipefail

missing=()
dpkg-query -W -f='${Status}' libsqlite3-dev 2>/dev/null | grep -q "install ok installed" || missing+=(libsqlite3-dev)
command -v make >/dev/null || missing+=(make)
if ! command -v python3 >/dev/null; then
  missing+=(python3 python3-venv)
elif ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
  missing+=(python3-venv)
fi

command -v chromium >/dev/null || missing+=(chromium)

if ((${#missing[@]} > 0)); then
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
  echo "==> installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
