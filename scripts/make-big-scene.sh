#!/usr/bin/env bash
# Builds a full-size 30 m Landsat Collection 2 Level-2 scene for the tiling benchmark (docs/performance.md):
# 7,800 × 7,900 pixels, SR_B1..SR_B7 uint16 + QA_PIXEL, tiled 256×256 DEFLATE GeoTIFFs like USGS's
# Collection 2 products, fill (DN 0) outside the rotated footprint, with the scene's MTL (.txt).
#
# Source: the real shared Greenland scene LC08_L2SP_005009_20150710_20200908_02_T2 (512×512 at ≈515 m,
# downsampled from the 8,791 × 8,821 px original), resampled back to 30 m with GDAL (bilinear for the
# reflectance bands, nearest for QA; fill kept as fill) and cropped to the centre 7,800 × 7,900 pixels.
# Pixel values are therefore smooth interpolations of real ones: right for timing, not for science.
#
# Usage: scripts/make-big-scene.sh OUT_FOLDER        (about 1 GB; never commit it)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/make-big-scene.sh OUT_FOLDER}
id=LC08_L2SP_005009_20150710_20200908_02_T2
src=../shared/data/scenes/$id
[ -d "$src" ] || { echo "error: $src not found (the shared data must sit beside the repository)" >&2; exit 1; }
mkdir -p "$out"
# Centre 7,800 × 7,900 crop of the original 8,791 × 8,821 px grid (origin 365685, 8143815; 30 m):
# offset (495, 460) px → x 380535 … 614535, y 7893015 … 8130015.
te=(380535 7893015 614535 8130015)
co=(-co TILED=YES -co BLOCKXSIZE=256 -co BLOCKYSIZE=256 -co COMPRESS=DEFLATE -co PREDICTOR=2)
for b in SR_B1 SR_B2 SR_B3 SR_B4 SR_B5 SR_B6 SR_B7 QA_PIXEL; do
  f=${id}_$b.TIF
  [ -f "$out/$f" ] && continue
  if [ "$b" = QA_PIXEL ]; then
    gdalwarp -q -overwrite -r near -tr 30 30 -te "${te[@]}" "${co[@]}" "$src/$f" "$out/$f.tmp.tif"
  else
    gdalwarp -q -overwrite -r bilinear -srcnodata 0 -dstnodata 0 -tr 30 30 -te "${te[@]}" "${co[@]}" "$src/$f" "$out/$f.tmp.tif"
  fi
  mv "$out/$f.tmp.tif" "$out/$f"
  echo "$f: $(gdalinfo "$out/$f" | grep 'Size is')"
done
# The MTL lists the same file names; only the grid size differs from the original product.
sed -e 's/REFLECTIVE_LINES = .*/REFLECTIVE_LINES = 7900/' -e 's/REFLECTIVE_SAMPLES = .*/REFLECTIVE_SAMPLES = 7800/' \
    "$src/${id}_MTL.txt" > "$out/${id}_MTL.txt"
echo "scene written to $out"
