#!/usr/bin/env bash
# The map benchmark of docs/performance.md ("Map"): `moemae map` on the generated full-size 30 m scene
# (scripts/make-big-scene.sh) and on two scenes four times larger: a VRT of the same bands at half the
# pixel size (15,600 × 15,800 px: strips twice as wide) and a VRT mosaic of four copies stacked
# north–south (7,800 × 31,600 px: same strips, four times as many), compared with `moemae bench encoder` at the same batch size and
# thread count. Prints tiles/s (mapped tiles / wall time of the whole command, model loading included)
# and peak RSS (/usr/bin/time -v).
#
# Usage: scripts/bench-map.sh SCENE_DIR WEIGHTS PROBE [WORKERS BATCH BLAS_THREADS]
#   SCENE_DIR: the folder written by scripts/make-big-scene.sh; PROBE must be fitted on WEIGHTS.
#   Unset OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE in the calling shell for the fast kernels (docs/performance.md).
#   Environment: PRECISION=fp32|bf16 (default fp32; `--precision` of bench encoder and map, bf16 needs
#   AVX512_BF16), SCENES="1x 4x-wide-and-tall 4x-tall" (default: all three; e.g. SCENES=1x for the full scene only).
set -euo pipefail
cd "$(dirname "$0")/.."
scene=${1:?usage: scripts/bench-map.sh SCENE_DIR WEIGHTS PROBE [WORKERS BATCH BLAS_THREADS]}
weights=${2:?weights}; probe=${3:?probe}
workers=${4:-2}; batch=${5:-64}; blas=${6:-1}
precision=${PRECISION:-fp32}; scenes=${SCENES:-1x 4x-wide-and-tall 4x-tall}
bin=.build/release/moemae
[ -x "$bin" ] || swift build -c release --product moemae
work=$(mktemp -d /tmp/moemae-bench-map.XXXXXX)
trap 'rm -rf "$work"' EXIT

# 4× scene, twice as wide and twice as tall: every band as a VRT with twice the rows and columns
# (nearest neighbour), same MTL.
big4="$work/scene4x"; mkdir -p "$big4"
for f in "$scene"/*.TIF; do
  gdal_translate -q -of VRT -r nearest -outsize 200% 200% "$(realpath "$f")" "$big4/$(basename "$f")"
done
cp "$scene"/*_MTL.txt "$big4/"

# 4× scene, same width and four times as tall: a VRT mosaic of four copies of the scene stacked
# north–south at 30 m (each copy's origin moved south by the scene's height), same MTL.
tall4="$work/scene4tall"; mkdir -p "$tall4"
for f in "$scene"/*.TIF; do
  read -r ulx uly lrx lry < <(gdalinfo -json "$f" | python3 -c '
import json, sys
j = json.load(sys.stdin); gt = j["geoTransform"]; w, h = j["size"]
print(gt[0], gt[3], gt[0] + w * gt[1], gt[3] + h * gt[5])')
  parts=()
  for k in 0 1 2 3; do
    dy=$(python3 -c "print(($uly - $lry) * $k)")
    part="$tall4/part$k-$(basename "$f" .TIF).vrt"
    gdal_translate -q -of VRT -a_ullr "$ulx" "$(python3 -c "print($uly - $dy)")" "$lrx" "$(python3 -c "print($lry - $dy)")" \
        "$(realpath "$f")" "$part"
    parts+=("$part")
  done
  gdalbuildvrt -q "$tall4/$(basename "$f")" "${parts[@]}"
done
cp "$scene"/*_MTL.txt "$tall4/"

run_map() {  # $1 = scene folder, $2 = label
  local out="$work/out-$2"
  /usr/bin/time -v "$bin" map "$1" --weights "$weights" --probe "$probe" --out "$out" --quiet \
      --workers "$workers" --batch-size "$batch" --blas-threads "$blas" --precision "$precision" 2> "$work/time-$2.txt" > /dev/null
  python3 - "$out/run-summary.json" "$work/time-$2.txt" "$2" <<'PY'
import json, re, sys
s = json.load(open(sys.argv[1])); t = open(sys.argv[2]).read()
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
wall = s["wall_s"]; mapped = sum(x["tiles_mapped"] for x in s["scenes"]); read = sum(x["tiles_read"] for x in s["scenes"])
busy = {x["stage"]: round(x["busy_s"], 1) for x in s["timings"]}
print(f"map {sys.argv[3]}: {read} tiles, {mapped} mapped in {wall:.1f} s = {mapped / wall:.1f} tiles/s; peak RSS {rss:.0f} MiB; busy s per stage {busy}")
PY
}

echo "workers=$workers batch=$batch blas-threads=$blas precision=$precision; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; load average $(cut -d' ' -f1-3 /proc/loadavg)"
# The encoder alone, with the same workers, batch size, BLAS threads and precision as the map runs.
"$bin" bench encoder --weights "$weights" --workers "$workers" --batch-size "$batch" --blas-threads "$blas" --precision "$precision"
for s in $scenes; do
  case "$s" in
    1x) run_map "$scene" "1x" ;;
    4x-wide-and-tall) run_map "$big4" "4x-wide-and-tall" ;;
    4x-tall) run_map "$tall4" "4x-tall" ;;
    *) echo "error: unknown scene '$s' in SCENES (1x, 4x-wide-and-tall, 4x-tall)" >&2; exit 64 ;;
  esac
done
