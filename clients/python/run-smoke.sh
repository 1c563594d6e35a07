#!/usr/bin/env bash
# Runs the Python smoke test against the built profile-service (needs `swift build` first; honours C360_BIN_DIR).
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh
exec .venv/bin/python smoke_test.py "$@"
