#!/usr/bin/env bash
# Tiling benchmark (docs/performance.md, "Tiling"): `moemae tile` on a full-size 30 m scene against
# `gdal_translate` reading the same 7 bands (written uncompressed, band-interleaved), 3 runs each,
# wall time and peak RSS from /usr/bin/time -v. Goal: moemae within 1.5× of gdal_translate's median
# wall time, peak RSS < 500 MB.
#
# Usage: scripts/bench-tile.sh [WORK_FOLDER]   (default /tmp/moemae-bench; needs ~3 GB free)
# Builds the scene with scripts/make-big-scene.sh on first use and moemae in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/moemae-bench}
id=LC08_L2SP_005009_20150710_20200908_02_T2
[ -x /usr/bin/time ] || { echo "error: /usr/bin/time is missing (Debian: apt-get install time)" >&2; exit 1; }
mkdir -p "$work"
scripts/make-big-scene.sh "$work/$id" >/dev/null
swift build -c release --product moemae >/dev/null
bin=$(swift build -c release --show-bin-path)/moemae
gdalbuildvrt -q -overwrite -separate "$work/bands.vrt" "$work/$id/${id}"_SR_B[1-7].TIF
field() { grep "$1" "$2" | awk '{print $NF}'; }
seconds() { awk -F: '{ if (NF == 3) print $1*3600+$2*60+$3; else print $1*60+$2 }'; }
gdal_t=(); moemae_t=(); gdal_rss=0; moemae_rss=0
for i in 1 2 3; do
  rm -f "$work/gdal.tif"; sync
  /usr/bin/time -v gdal_translate -q -co INTERLEAVE=BAND "$work/bands.vrt" "$work/gdal.tif" 2> "$work/gdal.time"
  gdal_t+=("$(field Elapsed "$work/gdal.time" | seconds)"); r=$(field Maximum "$work/gdal.time"); (( r > gdal_rss )) && gdal_rss=$r
  rm -rf "$work/dataset"; sync
  /usr/bin/time -v "$bin" tile "$work/$id" --out "$work/dataset" --quiet > /dev/null 2> "$work/moemae.time"
  moemae_t+=("$(field Elapsed "$work/moemae.time" | seconds)"); r=$(field Maximum "$work/moemae.time"); (( r > moemae_rss )) && moemae_rss=$r
  echo "run $i: gdal_translate ${gdal_t[-1]} s, moemae tile ${moemae_t[-1]} s"
done
median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
g=$(median "${gdal_t[@]}"); m=$(median "${moemae_t[@]}")
echo "gdal_translate: median ${g} s, peak RSS $((gdal_rss / 1024)) MB"
echo "moemae tile:    median ${m} s, peak RSS $((moemae_rss / 1024)) MB ($(python3 -c "import json;m=json.load(open('$work/dataset/manifest.json'));print(sum(s['tiles'] for s in m['shards']))") tiles)"
python3 - "$g" "$m" "$moemae_rss" <<'PY'
import sys
g, m, rss = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]) / 1024
ok = m <= 1.5 * g and rss < 500
print(f"ratio moemae/gdal_translate = {m / g:.2f} (goal ≤ 1.5); peak RSS {rss:.0f} MB (goal < 500): {'PASS' if ok else 'FAIL'}")
sys.exit(0 if ok else 1)
PY
