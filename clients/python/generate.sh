#!/usr/bin/env bash
# Generates the Python messages and gRPC stubs for every contract in Proto/ into clients/python/gen (git-ignored),
# with .pyi type stubs for editors and type checkers.
#
#   clients/python/generate.sh          uses clients/python/.venv/bin/python when present, else python3
#
# protoc comes from grpcio-tools (no system protoc needed); it also supplies google/protobuf/*.proto.
#
# Note on grpc/health/v1/health.proto: it is generated like the rest, but grpcio aliases the module grpc.health to
# grpc_health (from grpcio-health-checking), so `import grpc.health.v1.health_pb2` loads that package's copy of the
# same contract. customer360_client.py therefore uses grpc_health.v1 for health checks.
set -euo pipefail
cd "$(dirname "$0")"

python=${PYTHON:-}
if [[ -z "$python" ]]; then
  if [[ -x .venv/bin/python ]]; then python=.venv/bin/python; else python=python3; fi
fi
proto_root=../../Proto

mapfile -t protos < <(cd "$proto_root" && find . -name '*.proto' | sed 's|^\./||' | LC_ALL=C sort)
rm -rf gen
mkdir -p gen
"$python" -m grpc_tools.protoc -I "$proto_root" \
  --python_out=gen --grpc_python_out=gen --pyi_out=gen \
  "${protos[@]}"
echo "generated Python for ${#protos[@]} contracts into clients/python/gen"
