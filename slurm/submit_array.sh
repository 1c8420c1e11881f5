#!/usr/bin/env bash
# Submits SPEC as an N-task job array (each task a slice of the cells) and a merge job that runs
# when every task has succeeded; prints the two job ids.
#   slurm/submit_array.sh N SPEC.yaml OUT_DIR [sbatch options for the array ...]
set -euo pipefail
N=${1:?usage: slurm/submit_array.sh N SPEC.yaml OUT_DIR [sbatch options]}
SPEC=${2:?usage: slurm/submit_array.sh N SPEC.yaml OUT_DIR [sbatch options]}
OUT_DIR=${3:?usage: slurm/submit_array.sh N SPEC.yaml OUT_DIR [sbatch options]}
shift 3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p logs "$OUT_DIR"
array=$(sbatch --parsable --array="1-$N" "$@" "$HERE/array.sbatch" "$SPEC" "$OUT_DIR")
array=${array%%;*}  # --parsable may print id;cluster
# The merge gets the same sbatch options (partition, account, ...), without the array's resources.
merge=$(sbatch --parsable --dependency="afterok:$array" "$@" --ntasks=1 --gpus-per-task=0 "$HERE/merge.sbatch" "$OUT_DIR")
merge=${merge%%;*}
echo "array $array merge $merge"
