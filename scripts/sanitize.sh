#!/usr/bin/env bash
# Builds vram-opt with AddressSanitizer and UndefinedBehaviorSanitizer in
# build-asan/ and runs the whole lit suite against that build; any sanitizer
# report fails the run. Usage: scripts/sanitize.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
if [[ ! -f build-asan/CMakeCache.txt ]]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVRAM_SANITIZE=ON >/dev/null
fi
cmake --build build-asan -j"$(nproc)" --target vram-opt >&2
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
python3 /usr/lib/llvm-14/build/utils/lit/lit.py -s build-asan/test
