#!/usr/bin/env bash
# Installs the Debian packages vram-opt needs, only those missing.
# Idempotent. Usage: scripts/install-deps.sh [--with-torch]
#   --with-torch  also the optional set for models/ generation and
#                 measurement (python3-torch, python3-onnx for /usr/bin/python3)
set -euo pipefail

pkgs=(cmake make g++ llvm-14-dev llvm-14-tools libonnx-dev libprotobuf-dev
      protobuf-compiler libfmt-dev libgtest-dev python3 zlib1g-dev
      libtinfo-dev)
if [[ "${1:-}" == "--with-torch" ]]; then
  pkgs+=(python3-torch python3-onnx)
fi

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
