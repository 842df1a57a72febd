#!/usr/bin/env bash
# Plans nothing, submits everything: the map array over a manifest in N tasks, then gather as a job
# that starts only when every task succeeded (--dependency=afterok). Prints both job ids.
#
#   deploy/slurm/submit.sh MANIFEST OUT N WEIGHTS PROBE [sbatch options…]
#
# A failed task leaves gather pending (DependencyNeverSatisfied): run `moemae gather OUT --manifest
# MANIFEST` by hand to list the missing lines and the sbatch command that maps exactly those.
set -euo pipefail
if [ $# -lt 5 ]; then echo "usage: $0 MANIFEST OUT N WEIGHTS PROBE [sbatch options…]" >&2; exit 64; fi
here="$(cd "$(dirname "$0")" && pwd)"
manifest=$(realpath "$1"); out=$(realpath -m "$2"); n=$3; weights=$(realpath "$4"); probe=$(realpath "$5"); shift 5
export MOEMAE_MANIFEST="$manifest" MOEMAE_OUT="$out" MOEMAE_WEIGHTS="$weights" MOEMAE_PROBE="$probe"
map=$(sbatch --parsable --array=0-$((n - 1)) --export=ALL "$@" "$here/map-array.sbatch")
map=${map%%;*}
gather=$(sbatch --parsable --dependency=afterok:"$map" --export=ALL "$@" "$here/gather.sbatch")
echo "map array job $map ($n tasks), gather job ${gather%%;*}"
