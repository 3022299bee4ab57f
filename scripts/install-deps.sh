#!/usr/bin/env bash
# Installs what llamac needs to build and test, from Debian's packages and
# PyPI only. Run as root (or with sudo available). Idempotent.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

DEBIAN_PACKAGES=(
  cmake ninja-build
  clang-22 libclang-rt-22-dev          # compiler; libFuzzer and sanitizers
  llvm-22-dev llvm-22-tools            # LLVM libraries; lit, FileCheck, not, count
  libmlir-22-dev mlir-22-tools         # MLIR libraries, mlir-tblgen
  nlohmann-json3-dev                   # JSON (config.json, safetensors headers)
  libgtest-dev                         # unit tests
  libsentencepiece-dev                 # -p TEXT: the Llama 1/2 tokenizer in the runtime;
                                       # shared only (protobuf-lite inside), so generated
                                       # executables need libsentencepiece0 at run time
  libpcre2-dev                         # -p TEXT with Llama 3 (tiktoken BPE): the pre-tokenizer
                                       # regex needs \p{L} \p{N}; generated executables link
                                       # -lpcre2-8 (libpcre2-8-0 at run time)
  python3 python3-pip
)
missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The test-checkpoint generator (test/tools/make_checkpoint.py), and Hugging
# Face's tokenizers, the reference for tokenizer.json
# (test/tools/make_hf_tokenizer.py).
PYTHON="${PYTHON:-$(command -v python3)}"
if ! "$PYTHON" -c "import numpy, safetensors, ml_dtypes, tokenizers" 2>/dev/null; then
  $SUDO "$PYTHON" -m pip install -q --disable-pip-version-check numpy safetensors ml_dtypes tokenizers ||
    $SUDO "$PYTHON" -m pip install -q --disable-pip-version-check --break-system-packages numpy safetensors ml_dtypes tokenizers
fi
