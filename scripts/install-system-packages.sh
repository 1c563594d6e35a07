#!/usr/bin/env bash
# Installs the Debian packages Customer 360 needs to build, run and test, when they are missing:
#   libsqlite3-dev  GRDB links the system SQLite
#   make            the Makefile drives the tests
#   python3-venv    the Python client's smoke test runs in clients/python/.venv, the integration tests' SMTP and
#                   webhook peers (Tests/Peers/) in .venv-test-peers (scripts/test-peers-venv.sh)
#   chromium        the dashboard's browser test drives headless Chromium
#   gcc, libc6-dev, pkg-config, libprotobuf-c-dev, libcurl4-openssl-dev
#                   the C client (clients/c): a C11 compiler, protobuf-c's runtime, libcurl with HTTP/2
#   openssl, curl   scripts/dev-certs.sh makes the TLS certificates; the TLS tests read what a server presents
#                   (openssl s_client) and fetch the gateway's HTTPS port (curl)
# protoc (protobuf-compiler) and protoc-gen-c (protobuf-c-compiler) are only needed to regenerate contracts
# (scripts/generate-contracts.sh), not to build or test.
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

# Whether a package (or any matching a dpkg pattern) is installed.
installed() { [[ $(dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null) == *"install ok installed"* ]]; }
command -v cc >/dev/null || missing+=(gcc)
installed libc6-dev || missing+=(libc6-dev)
command -v pkg-config >/dev/null || missing+=(pkg-config)
installed libprotobuf-c-dev || missing+=(libprotobuf-c-dev)
# Any flavour of libcurl's headers will do (they conflict with each other); Debian's are all built with HTTP/2.
installed 'libcurl4-*-dev' || missing+=(libcurl4-openssl-dev)
command -v openssl >/dev/null || missing+=(openssl)
command -v curl >/dev/null || missing+=(curl)

if ((${#missing[@]} > 0)); then
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
  echo "==> installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
