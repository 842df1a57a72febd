#!/usr/bin/env bash
# The README's first command: installs what moemae needs (Debian packages), builds and installs moemae
# into PREFIX (default /usr/local: PREFIX/bin/moemae, the bundled model in PREFIX/share/moemae, shell
# completions; scripts/install.sh), then maps the bundled example scene with the installed command and
# the bundled demonstration encoder and probe, with PNG quick-looks. Re-running is harmless.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX="${PREFIX:-/usr/local}"
PREFIX="$PREFIX" ./scripts/install.sh
"$PREFIX/bin/moemae" run pipelines/landcover.yaml --overwrite
echo
echo "Maps of the example scene are in $(pwd)/out/landcover:"
ls -1 out/landcover
echo "Look at out/landcover/*_labels.png and *_rgb.png; open the GeoTIFFs in QGIS, or: moemae info out/landcover"
