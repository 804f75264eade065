#!/usr/bin/env bash
# Fails when a C++ source differs from clang-format 14's LLVM style
# (.clang-format). Usage: scripts/check-format.sh [--fix]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --with-format
mapfile -t files < <(git ls-files '*.cpp' '*.h' | sort)
if [[ "${1:-}" == "--fix" ]]; then
  clang-format-14 -i "${files[@]}"
  exit 0
fi
bad=0
for f in "${files[@]}"; do
  if ! clang-format-14 "$f" | cmp -s - "$f"; then
    echo "check-format: $f differs from clang-format (run scripts/check-format.sh --fix)" >&2
    bad=$((bad + 1))
  fi
done
echo "check-format: ${#files[@]} files, $bad differ"
[[ $bad -eq 0 ]]
