#!/usr/bin/env bash
# The cloud benchmark of docs/performance.md ("Map from object storage"): the generated full-size 30 m
# scene (scripts/make-big-scene.sh) converted to COGs (gdal_translate -of COG) and served by a local S3
# API (moto's server on 127.0.0.1, scripts/setup.sh installs it); `moemae map` from the s3:// scene
# prefix and from the same COGs on local disk, compared with `moemae bench encoder` at the same
# settings. Prints tiles/s (mapped tiles / wall time of the whole command) and peak RSS (/usr/bin/time -v).
#
# Usage: scripts/bench-cloud.sh SCENE_DIR WEIGHTS PROBE [WORKERS BATCH BLAS_THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
scene=${1:?usage: scripts/bench-cloud.sh SCENE_DIR WEIGHTS PROBE [WORKERS BATCH BLAS_THREADS]}
weights=${2:?weights}; probe=${3:?probe}
workers=${4:-2}; batch=${5:-64}; blas=${6:-1}
bin=.build/release/moemae
[ -x "$bin" ] || swift build -c release --product moemae
./scripts/setup.sh
work=$(mktemp -d /tmp/moemae-bench-cloud.XXXXXX)
moto_pid=""
cleanup() { [ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

mtl=$(ls "$scene"/*_MTL.txt | head -1)
product=$(basename "$mtl" _MTL.txt)
cogs="$work/$product"; mkdir -p "$cogs"
for f in "$scene"/*.TIF; do
  gdal_translate -q -of COG -co BLOCKSIZE=256 "$(realpath "$f")" "$cogs/$(basename "$f")"
done
cp "$scene"/*_MTL.* "$cogs/"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
moto_server -H 127.0.0.1 -p "$port" > "$work/moto.log" 2>&1 &
moto_pid=$!
export AWS_S3_ENDPOINT="127.0.0.1:$port" AWS_HTTPS=NO AWS_VIRTUAL_HOSTING=FALSE
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
python3 - "$port" "$cogs" "$product" <<'PY'
import os, sys, time, boto3
for _ in range(100):
    try:
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}", region_name="us-east-1")
        s3.create_bucket(Bucket="bench"); break
    except Exception:
        time.sleep(0.2)
for name in sorted(os.listdir(sys.argv[2])):
    s3.upload_file(os.path.join(sys.argv[2], name), "bench", f"{sys.argv[3]}/{name}")
PY

run_map() {  # $1 = scene, $2 = label
  local out="$work/out-$2"
  /usr/bin/time -v "$bin" map "$1" --weights "$weights" --probe "$probe" --out "$out" --quiet \
      --workers "$workers" --batch-size "$batch" --blas-threads "$blas" 2> "$work/time-$2.txt" > /dev/null
  python3 - "$out/run-summary.json" "$work/time-$2.txt" "$2" <<'PY'
import json, re, sys
s = json.load(open(sys.argv[1])); t = open(sys.argv[2]).read()
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
wall = s["wall_s"]; mapped = sum(x["tiles_mapped"] for x in s["scenes"])
print(f"map {sys.argv[3]}: {mapped} mapped in {wall:.1f} s = {mapped / wall:.1f} tiles/s; peak RSS {rss:.0f} MiB")
PY
}

echo "workers=$workers batch=$batch blas-threads=$blas"
"$bin" bench encoder --weights "$weights" --workers "$workers" --batch-size "$batch" --blas-threads "$blas"
run_map "$cogs" "local-cogs"
run_map "s3://bench/$product/" "s3-prefix"
