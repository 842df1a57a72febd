#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ (address sanitizer + coverage) and runs each one for a fixed
# budget with a fixed seed, starting from seed corpora made from ../shared (Fuzz/make-seeds.py).
# Fails on any crash, sanitizer report, leak, out-of-memory (> FUZZ_RSS_MB) or time-out (one input
# slower than FUZZ_TIMEOUT seconds). A failing input is kept as Fuzz/Crashes/<target>-crash-…: once the
# bug is fixed, move it to Fuzz/Regressions/<target>/ so the ordinary tests replay it.
#
#   scripts/fuzz.sh                     every target, FUZZ_SECONDS (default 30) each
#   FUZZ_SECONDS=600 scripts/fuzz.sh mtl-xml     one target, longer (docs/reliability.md)
#   FUZZ_RUNS=1000000 scripts/fuzz.sh safetensors  a fixed number of executions instead of a time
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${FUZZ_SECONDS:-30}
runs=${FUZZ_RUNS:--1}
seed=${FUZZ_SEED:-1}
work=${FUZZ_WORK:-$root/.build-fuzz}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(mtl-odl mtl-json mtl-xml safetensors checkpoint npz bigearthnet-labels pipeline-yaml dataset-manifest resume-state geotiff-band stac-item)
fi

# -Xswiftc -sanitize=fuzzer,address instruments the Swift code for coverage; --sanitize links
# libFuzzer's driver and ASan (SwiftPM alone does only the latter part).
(cd Fuzz && swift build -j 1 -c release --scratch-path "$work/build" \
  --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address 2>&1 | grep -Ev "warning: Cannot export local symbol|^\[" || true)
bin="$work/build/release"
for t in "${targets[@]}"; do
  [ -x "$bin/fuzz-$t" ] || { echo "fuzz.sh: no fuzz target fuzz-$t (build failed?)" >&2; exit 1; }
done

# Seed corpora, fresh each run (fixed seeds → the same run every time); the manifest seed needs moemae.
moemae_bin=$(swift build -c release --show-bin-path 2>/dev/null)/moemae
rm -rf "$work/seeds" && mkdir -p "$work/seeds"
python3 Fuzz/make-seeds.py "$work/seeds" "$([ -x "$moemae_bin" ] && echo "$moemae_bin")" >/dev/null

mkdir -p Fuzz/Crashes "$work/logs"
failed=()
for t in "${targets[@]}"; do
  corpus="$work/corpus/$t"
  rm -rf "$corpus" && mkdir -p "$corpus"
  log="$work/logs/$t.log"
  start=$(date +%s)
  set +e
  # LSan reports any memory still unreachable after an input (leaks); rss/malloc limits catch unbounded
  # allocation; -timeout catches inputs that make a parser loop or crawl.
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
  "$bin/fuzz-$t" "$corpus" "$work/seeds/$t" -seed="$seed" -max_total_time="$seconds" -runs="$runs" \
    -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb="${FUZZ_RSS_MB:-2048}" -malloc_limit_mb="${FUZZ_MALLOC_MB:-1024}" \
    -max_len="${FUZZ_MAX_LEN:-65536}" -print_final_stats=1 -artifact_prefix="$root/Fuzz/Crashes/$t-" >"$log" 2>&1
  rc=$?
  set -e
  stats=$(grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$log" | tr '\n' ' ')
  cov=$(grep -Eo "cov: [0-9]+ ft: [0-9]+" "$log" | tail -1)
  echo "fuzz $t: exit $rc, $(( $(date +%s) - start )) s, $cov, $stats"
  if [ $rc -ne 0 ]; then
    failed+=("$t")
    grep -E "ERROR|SUMMARY|Fatal error|==[0-9]+==|artifact|Test unit written" "$log" | head -20 >&2 || true
  fi
done
rm -rf /dev/shm/moemae-fuzz-* 2>/dev/null || true
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: FAILED: ${failed[*]} (logs in $work/logs, inputs in Fuzz/Crashes)" >&2
  exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets, no crash, leak, out-of-memory or time-out"
