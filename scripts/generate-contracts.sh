#!/usr/bin/env bash
# Regenerates the Swift code for every contract in Proto/ into Shared/Contracts/Generated and records a fingerprint of
# Proto/ beside it, so the test suite can tell when the committed code is stale.
#
#   scripts/generate-contracts.sh           build the protoc plugins if missing, regenerate, record the fingerprint
#   scripts/generate-contracts.sh --check   only compare Proto/ with the recorded fingerprint (exit 1 when stale)
#
# Needs protoc (Debian: protobuf-compiler). The plugins are built from this package's own dependencies
# (swift-protobuf and grpc-swift-protobuf) in release mode, once.
set -euo pipefail
cd "$(dirname "$0")/.."

out=Shared/Contracts/Generated
fingerprint_file="$out/PROTO_FINGERPRINT"

fingerprint() {
  # Every .proto file's path and contents, in a stable order, hashed together.
  find Proto -name '*.proto' | LC_ALL=C sort | while read -r file; do
    printf '%s\n' "$file"
    cat "$file"
  done | sha256sum | cut -d' ' -f1
}

if [[ "${1:-}" == "--check" ]]; then
  recorded=$(cat "$fingerprint_file" 2>/dev/null || echo "none")
  actual=$(fingerprint)
  if [[ "$recorded" != "$actual" ]]; then
    echo "Proto/ changed since the Swift contracts were generated (recorded $recorded, now $actual)." >&2
    echo "Run scripts/generate-contracts.sh and commit Shared/Contracts/Generated." >&2
    exit 1
  fi
  echo "generated contracts are up to date ($actual)"
  exit 0
fi

command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }

bin=$(swift build -c release --show-bin-path)
for plugin in protoc-gen-swift protoc-gen-grpc-swift-2; do
  if [[ ! -x "$bin/$plugin" ]]; then
    echo "building $plugin (release, once)…"
    swift build -c release --product "$plugin"
  fi
done

rm -rf "$out"
mkdir -p "$out"
mapfile -t protos < <(cd Proto && find . -name '*.proto' | sed 's|^\./||' | LC_ALL=C sort)
echo "generating Swift for ${#protos[@]} contracts…"
protoc -I Proto \
  --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
  --plugin=protoc-gen-grpc-swift-2="$bin/protoc-gen-grpc-swift-2" \
  --swift_out="$out" --swift_opt=Visibility=Public,FileNaming=PathToUnderscores,UseAccessLevelOnImports=true \
  --grpc-swift-2_out="$out" \
  --grpc-swift-2_opt=Visibility=Public,FileNaming=PathToUnderscores,Server=true,Client=true,UseAccessLevelOnImports=true \
  "${protos[@]}"
# The compiled contracts, which the test suite compares with the last release's (Proto/releases) for breaking changes.
protoc -I Proto --descriptor_set_out="$out/customer360.protoset" "${protos[@]}"
fingerprint > "$fingerprint_file"
echo "wrote $(find "$out" -name '*.swift' | wc -l) files to $out (fingerprint $(cat "$fingerprint_file"))"
