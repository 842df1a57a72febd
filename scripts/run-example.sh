#!/usr/bin/env bash
# The README's first command: installs what moemae needs (Debian packages), builds the release
# binary, and maps the bundled example scene with the bundled default encoder and probe.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
swift build -c release --product moemae
bin="$(swift build -c release --show-bin-path)/moemae"
"$bin" run pipelines/landcover.yaml --overwrite
echo
echo "Maps of the example scene are in $(pwd)/out/landcover:"
ls -1 out/landcover
echo "Open them in QGIS, or: gdalinfo out/landcover/*_labels.tif"
