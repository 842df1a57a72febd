#!/usr/bin/env bash
# The test command (README and .ci/run): installs system packages if missing, then runs every
# test target in release mode (numeric tests are slow in debug builds).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# One build of everything (the test bundle and the moemae executable the end-to-end tests run); a separate
# `--product moemae` build first would plan the same modules a second time.
swift build -c release -Xswiftc -enable-testing --build-tests
swift test -c release -Xswiftc -enable-testing --skip-build "$@"
# The map row store under the address sanitizer: the XXS preset on an odd grid width (Tests/PipelineTests/
# MapProductTests.swift). Debug build in its own scratch folder so it does not invalidate the release build.
if [ $# -eq 0 ]; then
    # Leak detection is off: GDAL, PROJ and Foundation keep process-lifetime caches it would report.
    ASAN_OPTIONS=detect_leaks=0 swift test --scratch-path .build-asan --sanitize=address --filter MapProductTests
fi
# Every fuzz target (Fuzz/, docs/reliability.md "Fuzzing") on its seed corpus plus 30 s of mutations with
# libFuzzer's seed 1, two targets at a time: fails on any crash, sanitizer report, leak, out-of-memory or
# time-out. The debug build (ASan + coverage) is the quick one: about 5 min for the whole step on an idle 2-core
# machine (estimated from CPU times: docs/reliability.md, "In CI").
if [ $# -eq 0 ]; then
    FUZZ_CONFIG=debug FUZZ_SECONDS=30 FUZZ_JOBS=2 ./scripts/fuzz.sh
fi
# The library products as another package uses them: Examples/Downstream depends on this package by
# path (products with -Ounchecked build as a path dependency, not as a versioned one) and encodes one
# real tile through the public API (docs/architecture.md).
if [ $# -eq 0 ]; then
    swift build --package-path Examples/Downstream --scratch-path .build-downstream
    .build-downstream/debug/downstream ../shared/golden/weights-xxs-public.safetensors \
        ../shared/data/scenes/LC08_L2SP_008059_20191201_20200825_02_T1
fi
