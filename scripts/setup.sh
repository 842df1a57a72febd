#!/usr/bin/env bash
# Installs what moemae needs on Debian, idempotently: GDAL, PROJ, OpenBLAS, libxml2 and OpenSSL's libcrypto (with headers and
# command-line tools), and the Python packages the tests use to check our files from Python and to run
# an S3 API on the loopback interface (moto's server).
set -euo pipefail
# slurm-wlm and munge: the Slurm array-job test runs a real single-node cluster (scripts/slurm-local.sh).
pkgs=(libgdal-dev libproj-dev libopenblas-dev libxml2-dev libssl-dev gdal-bin proj-bin pkg-config python3-pip slurm-wlm munge)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# kubectl (Debian's kubernetes-client): the cluster test parses the Kubernetes Indexed Job recipe offline
# (kubectl label --local). Any kubectl already on PATH will do; installing Debian's over another package's
# would clash on /usr/bin/kubectl.
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
py_check() {
  python3 - <<'PY' 2>/dev/null
import safetensors, numpy, sklearn, jsonschema, referencing, yaml, boto3, moto.server, flask_cors  # noqa: F401
PY
}
if ! py_check; then
  # moto[server]: a real S3 API on 127.0.0.1 for the cloud tests (Tests/EndToEndTests/Python/cloud_fixture.py).
  py_pkgs=(safetensors numpy scikit-learn jsonschema referencing pyyaml "moto[server]")
  pip_install() { python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore "$@" "${py_pkgs[@]}"; }
  # Debian 12's own python3 is "externally managed" (PEP 668) and refuses a plain pip install; the
  # test packages (safetensors is not packaged by Debian) then go in with --break-system-packages.
  pip_install 2>/dev/null || pip_install --break-system-packages
  py_check || { echo "setup.sh: the Python packages ${py_pkgs[*]} are still not importable by python3" >&2; exit 1; }
fi
