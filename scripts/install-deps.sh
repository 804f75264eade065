#!/usr/bin/env bash
# Installs the Debian packages vram-opt needs, only those missing.
# Idempotent. Usage: scripts/install-deps.sh [--with-torch] [--with-fuzz]
#                                            [--with-format] [--with-browser]
#   --with-torch  also the optional set for models/ generation and
#                 measurement (python3-torch, python3-onnx for /usr/bin/python3)
#   --with-fuzz   also clang 14 and its runtime (libFuzzer, sanitizers)
#   --with-format also clang-format 14 (scripts/check-format.sh)
#   --with-browser also chromium, the headless browser of the HTML report's
#                 test (test/Report/html-browser.test; unsupported without)
set -euo pipefail

pkgs=(cmake make g++ llvm-14-dev llvm-14-tools libonnx-dev libprotobuf-dev
      protobuf-compiler libfmt-dev libgtest-dev python3 zlib1g-dev
      libtinfo-dev)
for arg in "$@"; do
  case "$arg" in
    --with-torch) pkgs+=(python3-torch python3-onnx) ;;
    --with-fuzz) pkgs+=(clang-14 libclang-rt-14-dev) ;;
    --with-format) pkgs+=(clang-format-14) ;;
    --with-browser) pkgs+=(chromium) ;;
    *) echo "install-deps: unknown option $arg" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
