#!/usr/bin/env bash
# Cuts a release: freezes today's contracts as the release's descriptor set (the test suite then fails on any change
# that would break its clients), sets the version every executable reports, and prints the commit and tag to make.
#
#   scripts/cut-release.sh 0.2.0
#
# Run it on a clean main whose tests pass. Binaries report "<version> (git <revision>)"; the revision is stamped at
# build time, so build the release from the tagged commit.
set -euo pipefail
cd "$(dirname "$0")/.."

version=${1:-}
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "usage: $0 MAJOR.MINOR.PATCH (e.g. 0.2.0)" >&2; exit 2; }
[[ -z "$(git status --porcelain)" ]] || { echo "the working tree has changes; commit or stash them first" >&2; exit 1; }
scripts/generate-contracts.sh --check

newest=$(ls Proto/releases/*.protoset 2>/dev/null | sed 's|.*/v||; s|\.protoset$||' | sort -V | tail -1)
if [[ -n "$newest" && "$(printf '%s\n%s\n' "$newest" "$version" | sort -V | tail -1)" != "$version" || "$newest" == "$version" ]]; then
  echo "$version is not newer than the last release ($newest)" >&2
  exit 1
fi

cp Shared/Contracts/Generated/customer360.protoset "Proto/releases/v$version.protoset"
sed -i "s/public static let semantic = \"[0-9.]*\"/public static let semantic = \"$version\"/" Shared/ServerKit/ServiceHost.swift
grep -q "semantic = \"$version\"" Shared/ServerKit/ServiceHost.swift || { echo "could not set the version" >&2; exit 1; }

echo "release $version prepared (contracts frozen in Proto/releases/v$version.protoset). Now:"
echo "  git add -A && git commit -m 'Release $version' && git tag -a v$version -m 'Customer 360 $version'"
