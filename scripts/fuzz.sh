#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ (address sanitizer + coverage) and runs each one for a fixed
# budget with a fixed seed, starting from seed corpora made from ../shared (Fuzz/make-seeds.py), two
# targets at a time. Fails on any crash, sanitizer report, leak, out-of-memory (> FUZZ_RSS_MB) or
# time-out (one input slower than FUZZ_TIMEOUT seconds). A failing input is kept as
# Fuzz/Crashes/<target>-crash-…: once the bug is fixed, move it to Fuzz/Regressions/<target>/ so the
# ordinary tests replay it (docs/reliability.md, "Fuzzing").
#
#   scripts/fuzz.sh                      every target, FUZZ_SECONDS (default 30) each
#   FUZZ_SECONDS=600 scripts/fuzz.sh mtl-xml      one target, longer
#   FUZZ_RUNS=1000000 FUZZ_SECONDS=0 scripts/fuzz.sh safetensors   a fixed number of executions
#   FUZZ_CONFIG=debug                    the debug build (what CI uses: scripts/test.sh; builds in a
#                                        fraction of the release build's time, runs fewer inputs per second)
#   FUZZ_JOBS=1                          one target at a time (default 2, the CI machine's cores)
#   FUZZ_NICE=19                         build and run under nice (idle cycles only)
#   FUZZ_BIN=folder                      run the fuzz-<target> executables found there instead of building
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${FUZZ_SECONDS:-30}
runs=${FUZZ_RUNS:--1}
seed=${FUZZ_SEED:-1}
config=${FUZZ_CONFIG:-release}
jobs=${FUZZ_JOBS:-2}
work=${FUZZ_WORK:-$root/.build-fuzz}
nice=(nice -n "${FUZZ_NICE:-0}")
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(mtl-odl mtl-json mtl-xml safetensors checkpoint npz bigearthnet-labels pipeline-yaml dataset-manifest resume-state geotiff-band stac-item)
fi

# -Xswiftc -sanitize=fuzzer,address instruments the Swift code for coverage; --sanitize links
# libFuzzer's driver and ASan (SwiftPM alone does only the latter part).
mkdir -p "$work"
if [ -n "${FUZZ_BIN:-}" ]; then
  bin=$FUZZ_BIN
else
  build_start=$(date +%s)
  set +e
  (cd Fuzz && "${nice[@]}" swift build ${FUZZ_BUILD_JOBS:+-j "$FUZZ_BUILD_JOBS"} -c "$config" --scratch-path "$work/build" \
    --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address >"$work/build.log" 2>&1)
  built=$?
  set -e
  if [ $built -ne 0 ]; then
    grep -E "error:" "$work/build.log" | sort -u | head -20 >&2 || true
    echo "fuzz.sh: the fuzz build failed (log: $work/build.log)" >&2
    exit 1
  fi
  echo "fuzz.sh: $config fuzz build, $(( $(date +%s) - build_start )) s"
  bin="$work/build/$config"
fi
for t in "${targets[@]}"; do
  [ -x "$bin/fuzz-$t" ] || { echo "fuzz.sh: no fuzz target fuzz-$t (build failed?)" >&2; exit 1; }
done

# Seed corpora, fresh each run (fixed seeds → the same run every time); the manifest seed needs moemae.
moemae_bin=${MOEMAE:-$(swift build -c release --show-bin-path 2>/dev/null)/moemae}
rm -rf "$work/seeds" && mkdir -p "$work/seeds"
python3 Fuzz/make-seeds.py "$work/seeds" "$([ -x "$moemae_bin" ] && echo "$moemae_bin")" >/dev/null

mkdir -p Fuzz/Crashes "$work/logs"
# One target: its own fresh corpus folder and log; prints one summary line; exit status is libFuzzer's.
fuzz_one() {
  local t=$1 corpus="$work/corpus/$1" log="$work/logs/$1.log" start rc
  rm -rf "$corpus" && mkdir -p "$corpus"
  start=$(date +%s)
  set +e
  # LSan reports any memory still unreachable after an input (leaks; Fuzz/lsan-suppressions.txt lists
  # the known leaks inside Foundation itself); rss/malloc limits catch unbounded allocation; -timeout
  # catches inputs that make a parser loop or crawl.
  LSAN_OPTIONS=suppressions="$root/Fuzz/lsan-suppressions.txt":print_suppressions=0 \
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
  "${nice[@]}" "$bin/fuzz-$t" "$corpus" "$work/seeds/$t" -seed="$seed" -max_total_time="$seconds" -runs="$runs" \
    -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb="${FUZZ_RSS_MB:-2048}" -malloc_limit_mb="${FUZZ_MALLOC_MB:-1024}" \
    -max_len="${FUZZ_MAX_LEN:-65536}" -print_final_stats=1 -artifact_prefix="$root/Fuzz/Crashes/$t-" >"$log" 2>&1 &
  local pid=$!
  wait $pid
  rc=$?
  set -e
  # The target's scratch folder (FuzzTargets.scratchFolder); other runs' folders are left alone.
  rm -rf "/dev/shm/moemae-fuzz-$pid" "${TMPDIR:-/tmp}/moemae-fuzz-$pid" 2>/dev/null || true
  local execs rss cov
  execs=$(grep -Eo "^stat::number_of_executed_units: *[0-9]+" "$log" | grep -Eo "[0-9]+$" || echo "?")
  rss=$(grep -Eo "^stat::peak_rss_mb: *[0-9]+" "$log" | grep -Eo "[0-9]+$" || echo "?")
  cov=$(grep -Eo "cov: [0-9]+ ft: [0-9]+" "$log" | tail -1 || true)
  echo "fuzz $t: exit $rc, $(( $(date +%s) - start )) s, $execs executions, $cov, peak RSS $rss MB"
  if [ $rc -ne 0 ]; then
    grep -E "ERROR|SUMMARY|Fatal error|==[0-9]+==|artifact|Test unit written" "$log" | head -20 >&2 || true
  fi
  return $rc
}

# At most $jobs targets at once; each one's status in $work/status/<target>.
rm -rf "$work/status" && mkdir -p "$work/status"
running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
  ( if fuzz_one "$t"; then echo 0 >"$work/status/$t"; else echo 1 >"$work/status/$t"; fi ) &
  running=$((running + 1))
done
wait
failed=()
for t in "${targets[@]}"; do
  [ "$(cat "$work/status/$t" 2>/dev/null)" = 0 ] || failed+=("$t")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: FAILED: ${failed[*]} (logs in $work/logs, inputs in Fuzz/Crashes)" >&2
  exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets, no crash, leak, out-of-memory or time-out"
