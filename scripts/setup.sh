#!/usr/bin/env bash
# Installs what moemae needs on Debian, idempotently: GDAL, PROJ and OpenBLAS (with headers and
# command-line tools), and the Python packages the tests use to check our files from Python.
set -euo pipefail
pkgs=(libgdal-dev libproj-dev libopenblas-dev gdal-bin proj-bin pkg-config python3-pip)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
py_missing=0
python3 - <<'PY' 2>/dev/null || py_missing=1
import safetensors, numpy, sklearn, jsonschema, referencing, yaml  # noqa: F401
PY
if [ "$py_missing" -eq 1 ]; then
  python3 -m pip install -q --disable-pip-version-check safetensors numpy scikit-learn jsonschema referencing pyyaml 2>&1 | grep -v "Running pip as the 'root' user" || true
fi
