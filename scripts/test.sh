#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (GoogleTest
# unit tests and the lit suite) through ctest. Ends with ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
cd build
ctest --output-on-failure
