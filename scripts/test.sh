#!/usr/bin/env bash
# The test command (README and .ci/run): installs system packages if missing, then runs every
# test target in release mode (numeric tests are slow in debug builds).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
swift build -c release -Xswiftc -enable-testing --product moemae
swift test -c release -Xswiftc -enable-testing "$@"
# The map row store under the address sanitizer: the XXS preset on an odd grid width (Tests/PipelineTests/
# MapProductTests.swift). Debug build in its own scratch folder so it does not invalidate the release build.
if [ $# -eq 0 ]; then
    # Leak detection is off: GDAL, PROJ and Foundation keep process-lifetime caches it would report.
    ASAN_OPTIONS=detect_leaks=0 swift test --scratch-path .build-asan --sanitize=address --filter MapProductTests
fi
