#!/usr/bin/env bash
# Prepares the Python client: creates clients/python/.venv when missing, installs requirements.txt when it changed,
# and regenerates the stubs into clients/python/gen.
#
#   clients/python/setup.sh                     then: clients/python/.venv/bin/python <your script>
#   PYTHON=python3.12 clients/python/setup.sh   picks the interpreter that creates the venv
set -euo pipefail
cd "$(dirname "$0")"

if [[ ! -x .venv/bin/python ]]; then
  echo "creating clients/python/.venv"
  "${PYTHON:-python3}" -m venv .venv
fi

# Install only when requirements.txt changed since the last successful install (no network otherwise).
stamp=.venv/.requirements.sha256
wanted=$(sha256sum requirements.txt | cut -d' ' -f1)
if [[ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]]; then
  echo "installing clients/python/requirements.txt"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
  echo "$wanted" > "$stamp"
fi

PYTHON=.venv/bin/python ./generate.sh
