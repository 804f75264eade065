#!/bin/sh
# One command for the benchmark of issue 7 (see docs/performance.md):
#   bench/run.sh            generate the models (if missing), build the parse
#                           floor, measure, print the table and the ratios
#   N=5 bench/run.sh        median of 5 runs instead of 3
#   bench/run.sh --skip-python   leave out the python3-onnx reference
# Needs: Debian's python3-onnx, libonnx-dev, libprotobuf-dev, cmake,
# /usr/bin/time, and vram-opt built in build/ (scripts/build.sh).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
py=/usr/bin/python3
vram="${VRAM_OPT:-$root/build/tools/vram-opt/vram-opt}"

[ -x /usr/bin/time ] || { echo "bench/run.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
(cd /tmp && $py -c 'import onnx') 2>/dev/null || {
  echo "bench/run.sh: needs Debian's python3-onnx (apt-get install python3-onnx)" >&2; exit 1; }
[ -x "$vram" ] || { echo "bench/run.sh: build vram-opt first (scripts/build.sh); looked for $vram" >&2; exit 1; }

# 1. models (kept between runs; --force in gen_large.py rewrites them)
$py "$here/gen_large.py" --out "$here/out"

# 2. the floor program: a standalone CMake project in bench/build
if [ ! -f "$here/build/CMakeCache.txt" ]; then
  cmake -S "$here" -B "$here/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$here/build" -j2 >/dev/null

# 3. measure (from /tmp: no stray 'onnx' folder shadows the python module)
cd /tmp
exec $py "$here/measure.py" --vram-opt "$vram" --floor "$here/build/parse_floor" \
  --out "$here/out" "$@"
