#!/usr/bin/env bash
# Builds the libFuzzer targets with clang, AddressSanitizer and UBSan in
# build-fuzz/, then runs each for SECONDS (default 60) on seed corpora from
# models/, the lit tests and ../shared/models (the rules target on the
# --op-rules files of the tests). Usage: scripts/fuzz.sh [SECONDS]
# A crash leaves its input in build-fuzz/crashes/ and the script fails.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
scripts/install-deps.sh --with-fuzz
if [[ ! -f build-fuzz/CMakeCache.txt ]]; then
  cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
    -DVRAM_FUZZ=ON -DVRAM_SANITIZE=ON -DBUILD_TESTING=OFF >/dev/null
fi
cmake --build build-fuzz -j"$(nproc)" --target vram-fuzz-binary vram-fuzz-text vram-fuzz-rules >&2

rm -rf build-fuzz/corpus-binary build-fuzz/corpus-text build-fuzz/corpus-rules
mkdir -p build-fuzz/corpus-binary build-fuzz/corpus-text build-fuzz/corpus-rules build-fuzz/crashes
find models ../shared/models -name '*.onnx' -size -2M -exec cp {} build-fuzz/corpus-binary/ \; 2>/dev/null || true
find models test -name '*.onnxtxt' | while read -r f; do cp "$f" "build-fuzz/corpus-text/$(echo "$f" | tr / _)"; done
# --op-rules files: the test inputs, and rules for the fuzz model's ops.
find test -name '*.rules' -exec cp {} build-fuzz/corpus-rules/ \;
printf '%s\n' 'my.domain::Frob: out0 = in0[0] * attr:k + 1, in1[-1]; saves = in0, out0' \
  'my.domain::Split2: out0 = in0[0], in0[1]; out1 = in0[-1] + 1, 2; grad = no' \
  > build-fuzz/corpus-rules/seed.rules

status=0
for kind in binary text rules; do
  echo "fuzz: vram-fuzz-$kind for ${secs}s" >&2
  if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 \
      build-fuzz/tools/vram-fuzz/vram-fuzz-$kind \
      -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
      -print_final_stats=1 -artifact_prefix=build-fuzz/crashes/$kind- \
      build-fuzz/corpus-$kind 2> build-fuzz/fuzz-$kind.log; then
    status=1
    tail -40 build-fuzz/fuzz-$kind.log >&2
  fi
  grep -E "stat::number_of_executed_units|stat::average_exec_per_sec" build-fuzz/fuzz-$kind.log >&2 || true
done
exit $status
