#!/usr/bin/env bash
# The README's first command: installs the dependencies, builds llamac,
# compiles the embedded default model (examples/tiny-fortunes) for the host
# and generates text with it. Extra arguments go to the generated executable.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/configure.sh >/dev/null
cmake --build "${BUILD_DIR:-build}" --target llamac -j "$(nproc)"
MODEL=examples/tiny-fortunes
EXE="${BUILD_DIR:-build}/tiny-fortunes"
"${BUILD_DIR:-build}/bin/llamac" compile "$MODEL" --target host -o "$EXE"
if [ $# -eq 0 ]; then
  set -- -p "A fortune for today:" -n 96 --temp 0.8 --seed 42 --ignore-eos
fi
"$EXE" "$@"
