#!/usr/bin/env bash
# The README's test command: installs the dependencies, builds everything
# (fuzzers included) and runs every test under ctest, whose closing summary
# counts lit tests and unit tests one by one.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/configure.sh -DLLAMAC_ENABLE_FUZZERS=ON -DLLAMAC_ENABLE_UNITTESTS=ON >/dev/null
cmake --build "${BUILD_DIR:-build}" -j "$(nproc)"
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j "$(nproc)"
