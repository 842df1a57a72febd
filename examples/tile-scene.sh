#!/usr/bin/env bash
# Tiles one real shared scene into a dataset folder and loads it back in Python.
# Usage: examples/tile-scene.sh [SCENE] [OUT]   (run from the repository root after scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
scene="${1:-../shared/data/scenes/LC08_L2SP_008059_20191201_20200825_02_T1}"
out="${2:-/tmp/moemae-example-dataset}"
swift build -c release --product moemae >/dev/null
.build/release/moemae tile "$scene" --out "$out" --overwrite
python3 examples/load_dataset.py "$out"
