#!/usr/bin/env bash
# The figures of docs/scaling.md: scenes per hour for 1, 2 and 3 concurrent Slurm array tasks on this
# machine, per-task peak memory, and `moemae gather` time over 10,000 generated Items.
#
# Usage: scripts/bench-cluster.sh [COPIES]
#   Maps the four real 512×512 C2 L2 shared scenes plus COPIES-1 copies of each under other product ids
#   (default 3: 12 scenes) with the bundled model, through deploy/slurm/map-array.sbatch on the local
#   single-node cluster of scripts/slurm-local.sh (started and stopped here; needs root), as an array of
#   C tasks (shards) for C = 1, 2, 3, each task with --cpus-per-task=2 (2 workers × 1 BLAS thread).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
copies=${1:-3}
bin=$repo/.build/release/moemae
[ -x "$bin" ] || swift build -c release --product moemae
work=$(mktemp -d /tmp/moemae-bench-cluster.XXXXXX)
cleanup() { scripts/slurm-local.sh stop "$work/slurm" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
eval "$(scripts/slurm-local.sh start "$work/slurm")"

shared=$(realpath ../shared/data/scenes)
scenes=()
for p in LC08_L2SP_005009_20150710_20200908_02_T2 LC08_L2SP_008059_20191201_20200825_02_T1 \
         LC08_L2SP_017036_20130419_20200913_02_T2 LC08_L2SR_099120_20191129_20201016_02_T2; do
  scenes+=("$shared/$p")
  for k in $(seq 1 $((copies - 1))); do
    IFS=_ read -r a b c d e f g <<<"$p"; id="${a}_${b}_${c}_${d}_${e:0:6}$(printf %02d "$k")_${f}_${g}"
    mkdir -p "$work/copies/$id"
    for f in "$shared/$p"/*; do
      case "$f" in *_MTL.*) continue ;; esac
      b=$(basename "$f"); ln -s "$f" "$work/copies/$id/${b/$p/$id}"
    done
    sed "s/$p/$id/g" "$shared/$p/${p}_MTL.txt" > "$work/copies/$id/${id}_MTL.txt"
    scenes+=("$work/copies/$id")
  done
done
"$bin" plan "${scenes[@]}" --out "$work/manifest.jsonl" >/dev/null
n=$(wc -l < "$work/manifest.jsonl")
tiles=$(python3 -c "import json,sys; print(sum(json.loads(l)['estimated_tiles'] for l in open(sys.argv[1])))" "$work/manifest.jsonl")

# Each task runs under /usr/bin/time to record its peak RSS.
cat > "$work/timed" <<EOT
#!/bin/sh
exec /usr/bin/time -f %M -o "$work/rss-\$SLURM_ARRAY_JOB_ID-\$SLURM_ARRAY_TASK_ID" "$bin" "\$@"
EOT
chmod +x "$work/timed"
export MOEMAE="$work/timed" MOEMAE_MANIFEST="$work/manifest.jsonl" MOEMAE_WEIGHTS="$repo/models/default/weights.safetensors" \
       MOEMAE_PROBE="$repo/models/default/probe-bigearthnet19.safetensors"
echo "scenes: $n ($tiles tiles of 40×40, 512×512-pixel scenes); $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| concurrent tasks | wall s | scenes/hour | tiles/s | peak RSS per task (MiB, max) |"
echo "|---|---|---|---|---|"
for c in 1 2 3; do
  export MOEMAE_OUT="$work/out$c"
  start=$(date +%s.%N)
  job=$(cd "$work" && sbatch --parsable --array=0-$((c - 1)) --cpus-per-task=2 --export=ALL "$repo/deploy/slurm/map-array.sbatch")
  job=${job%%;*}
  while [ -n "$(squeue -h -j "$job" 2>/dev/null)" ]; do sleep 0.5; done
  end=$(date +%s.%N)
  done_items=$(ls "$MOEMAE_OUT"/*.stac.json 2>/dev/null | wc -l)
  [ "$done_items" -eq "$n" ] || { echo "only $done_items of $n scenes mapped with $c tasks; logs in $work" >&2; cat "$work"/moemae-map-*.out >&2; exit 1; }
  rss=$(cat "$work"/rss-"$job"-* | sort -n | tail -1)
  python3 -c "
w = $end - $start
print(f'| $c | {w:.1f} | {$n * 3600 / w:.0f} | {$tiles / w:.0f} | {$rss / 1024:.0f} |')"
done

# gather over 10,000 tiny generated Items (no rasters; --no-vrt).
g="$work/gather"; mkdir -p "$g"
python3 - "$g" "$work/g.jsonl" <<'PY'
import json, sys
out, manifest = sys.argv[1], sys.argv[2]
with open(manifest, "w") as m:
    for i in range(10000):
        pid = f"LC08_L2SP_{i // 100:03d}{i % 100:03d}_20200101_20200102_02_T1"
        m.write(json.dumps({"index": i, "id": pid, "source": f"/data/{pid}", "acquired": "2020-01-01T10:00:00.00Z",
                            "crs": "EPSG:32633", "epsg": 32633, "grid": {"width": 40, "height": 40, "geotransform": [500000, 30, 0, 6000000, 0, -30]},
                            "tile_size": 40, "estimated_tiles": 1, "content_sha256": "0" * 64}, sort_keys=True) + "\n")
        lon, lat = 12 + (i % 100) * 0.01, 50 + (i // 100) * 0.01
        ring = [[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat + 0.01], [lon, lat]]
        json.dump({"type": "Feature", "stac_version": "1.0.0", "stac_extensions": [], "id": pid,
                   "geometry": {"type": "Polygon", "coordinates": [ring]}, "bbox": [lon, lat, lon + 0.01, lat + 0.01],
                   "properties": {"datetime": "2020-01-01T10:00:00.000Z", "proj:epsg": 32633, "platform": "landsat-8"},
                   "links": [], "assets": {"labels": {"href": f"./{pid}_labels.tif", "roles": ["data"]}}}, open(f"{out}/{pid}.stac.json", "w"))
PY
/usr/bin/time -f "gather over 10,000 Items: %e s wall, peak RSS %M KiB" "$bin" gather "$g" --manifest "$work/g.jsonl" --no-vrt >/dev/null

# The same gather from an s3:// prefix: the 10,000 Items uploaded to moto's S3 on 127.0.0.1
# (Tests/PipelineTests/Python/s3_server.py), gather lists the prefix once and GETs each Item.
coproc S3 { python3 "$repo/Tests/PipelineTests/Python/s3_server.py" moemae-bench 2>/dev/null; }
read -r s3line <&"${S3[0]}"
eval "$(python3 -c 'import json,sys,shlex; print(" ".join(f"export {k}={shlex.quote(v)};" for k, v in json.loads(sys.argv[1])["env"].items()))' "$s3line")"
python3 - "$g" <<'PY'
import boto3, os, sys
from concurrent.futures import ThreadPoolExecutor
s3 = boto3.client("s3", endpoint_url="http://" + os.environ["AWS_S3_ENDPOINT"], region_name="us-east-1")
names = [n for n in os.listdir(sys.argv[1]) if n.endswith(".stac.json")]
with ThreadPoolExecutor(8) as pool:
    list(pool.map(lambda n: s3.upload_file(os.path.join(sys.argv[1], n), "moemae-bench", "g/" + n), names))
PY
/usr/bin/time -f "gather over 10,000 Items from s3:// (local moto S3): %e s wall, peak RSS %M KiB" "$bin" gather s3://moemae-bench/g --manifest "$work/g.jsonl" --no-vrt >/dev/null
exec {S3[1]}>&-
wait "$S3_PID" 2>/dev/null || true
