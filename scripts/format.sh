#!/usr/bin/env bash
# Formats every Swift file in git with swift-format (the toolchain's `swift format`) under .swift-format, or with
# --check only lints them (--strict: any finding fails). Generated contracts are left as protoc writes them.
#
#   scripts/format.sh           rewrite files in place
#   scripts/format.sh --check   fail, naming file:line and rule, where a file is not formatted
set -euo pipefail
cd "$(dirname "$0")/.."
# Tracked and new (not ignored) files, so a file not yet added is checked too; a deleted one is skipped.
mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.swift' | grep -v '/Generated/' |
  while read -r file; do [[ -f $file ]] && echo "$file"; done)
if [[ "${1:-}" == "--check" ]]; then
  if ! swift format lint --strict --configuration .swift-format "${files[@]}"; then
    echo "Swift files are not formatted as .swift-format says: run scripts/format.sh (make format) and commit." >&2
    exit 1
  fi
else
  swift format --in-place --configuration .swift-format "${files[@]}"
fi
