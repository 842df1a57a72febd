#!/usr/bin/env bash
# The cloud benchmark of docs/performance.md ("Map from object storage"): the generated full-size 30 m
# scene (scripts/make-big-scene.sh) converted to COGs (gdal_translate -of COG) and served by a local S3
# API (moto's server on 127.0.0.1, scripts/setup.sh installs it) with a STAC Item for it in the bucket
# (USGS form: eo:bands common names, qa_pixel and mtl.txt assets, s3:// hrefs); `moemae map` from that
# s3:// item and from the same COGs on local disk, compared with `moemae bench encoder` at the same
# settings. For each map: mapped tiles / wall time of the whole command (tiles/s), peak RSS and
# user+sys CPU seconds per mapped tile (/usr/bin/time -v; less sensitive to other load on the machine
# than wall time), and the load average when it started.
#
# Usage: scripts/bench-cloud.sh SCENE_DIR WEIGHTS PROBE [WORKERS BATCH BLAS_THREADS BENCH_SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
scene=${1:?usage: scripts/bench-cloud.sh SCENE_DIR WEIGHTS PROBE [WORKERS BATCH BLAS_THREADS BENCH_SECONDS]}
weights=${2:?weights}; probe=${3:?probe}
workers=${4:-2}; batch=${5:-64}; blas=${6:-1}; seconds=${7:-20}
bin=${MOEMAE:-.build/release/moemae}   # MOEMAE=path: another build of moemae
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
import json, os, sys, time, boto3
port, cogs, product = sys.argv[1:4]
for _ in range(100):
    try:
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1")
        s3.create_bucket(Bucket="bench"); break
    except Exception:
        time.sleep(0.2)
for name in sorted(os.listdir(cogs)):
    s3.upload_file(os.path.join(cogs, name), "bench", f"{product}/{name}")
# A STAC Item in the USGS form (asset keys by common name, qa_pixel, mtl.txt), hrefs on the local S3.
common = {1: "coastal", 2: "blue", 3: "green", 4: "red", 5: "nir08", 6: "swir16", 7: "swir22"}
prefix = f"s3://bench/{product}"
assets = {c: {"href": f"{prefix}/{product}_SR_B{n}.TIF", "roles": ["data"],
              "eo:bands": [{"name": f"SR_B{n}", "common_name": c}]} for n, c in common.items()}
assets["qa_pixel"] = {"href": f"{prefix}/{product}_QA_PIXEL.TIF", "roles": ["cloud"]}
assets["mtl.txt"] = {"href": f"{prefix}/{product}_MTL.txt", "roles": ["metadata"]}
import re
mtl = open(os.path.join(cogs, f"{product}_MTL.txt")).read()
when = lambda key: re.search(rf'{key} = "?([^"\n]+)"?', mtl).group(1)
item = {"type": "Feature", "stac_version": "1.0.0", "id": product, "stac_extensions": [], "geometry": None,
        "bbox": None, "properties": {"datetime": f"{when('DATE_ACQUIRED')}T{when('SCENE_CENTER_TIME')}"},
        "links": [], "assets": assets}
s3.put_object(Bucket="bench", Key=f"{product}/{product}.json", Body=json.dumps(item).encode())
PY

run_map() {  # $1 = scene, $2 = label
  local out="$work/out-$2"
  echo "load average before map $2: $(cut -d' ' -f1-3 /proc/loadavg)"
  /usr/bin/time -v "$bin" map "$1" --weights "$weights" --probe "$probe" --out "$out" --quiet \
      --workers "$workers" --batch-size "$batch" --blas-threads "$blas" 2> "$work/time-$2.txt" > /dev/null
  python3 - "$out/run-summary.json" "$work/time-$2.txt" "$2" <<'PY'
import json, re, sys
s = json.load(open(sys.argv[1])); t = open(sys.argv[2]).read()
field = lambda name: float(re.search(re.escape(name) + r": ([\d.]+)", t).group(1))
rss = field("Maximum resident set size (kbytes)") / 1024
cpu = field("User time (seconds)") + field("System time (seconds)")
wall = s["wall_s"]; mapped = sum(x["tiles_mapped"] for x in s["scenes"])
print(f"map {sys.argv[3]}: {mapped} tiles mapped in {wall:.1f} s = {mapped / wall:.1f} tiles/s; "
      f"peak RSS {rss:.0f} MiB; user+sys {cpu:.1f} s = {1000 * cpu / mapped:.2f} ms CPU per tile")
PY
  rm -rf "$out"
}

echo "workers=$workers batch=$batch blas-threads=$blas; $(nproc) CPUs"
echo "load average before bench encoder: $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin" bench encoder --weights "$weights" --workers "$workers" --batch-size "$batch" --blas-threads "$blas" --seconds "$seconds"
run_map "$cogs" "local-cogs"
run_map "s3://bench/$product/$product.json" "s3-item"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
