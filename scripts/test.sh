#!/usr/bin/env bash
# The test command (README and .ci/run): installs system packages if missing, then runs every
# test target in release mode (numeric tests are slow in debug builds).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
swift build -c release -Xswiftc -enable-testing --product moemae
swift test -c release -Xswiftc -enable-testing "$@"
