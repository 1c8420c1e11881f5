#!/usr/bin/env bash
# Installs every dependency of pbe-dist: Debian's packages from apt, and PyTorch 2.11 (LibTorch for
# the build, PyTorch for the Python reference benchmarks) from PyPI into a venv that the build finds
# by itself at .venv/. The venv lives once per machine in $PBE_VENV (default
# ~/.cache/pbe-dist/venv-torch-VERSION; it takes ~4.6 GB) and .venv links to it, so fresh clones
# reuse it. Then scripts/deps.sh copies the header-only and small libraries into deps/.
# Idempotent: a second run installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH_VERSION=2.11.0  # the GPU machine's PyTorch: the same LibTorch everywhere
NUMPY_VERSION=2.4.6

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git ca-certificates
  libopenmpi-dev openmpi-bin
  libhdf5-dev hdf5-tools
  libyaml-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libspdlog-dev libfmt-dev zlib1g-dev libssl-dev
  dataset-fashion-mnist
  python3 python3-venv python3-h5py python3-numpy python3-matplotlib python3-pil
  slurm-wlm munge
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: all Debian packages present"
fi

has_venv() {
  [[ -x $1/bin/python ]] && "$1/bin/python" -c "import importlib.metadata as m, sys
sys.exit((m.version('torch'), m.version('numpy')) != ('$TORCH_VERSION', '$NUMPY_VERSION'))" 2>/dev/null
}
if has_venv .venv; then
  echo "setup: PyTorch $TORCH_VERSION present in .venv"
else
  VENV=${PBE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/pbe-dist/venv-torch-$TORCH_VERSION}
  if ! has_venv "$VENV"; then
    echo "setup: installing PyTorch $TORCH_VERSION into $VENV (~4.6 GB, a few minutes)"
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    /usr/bin/python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --progress-bar off "torch==$TORCH_VERSION" "numpy==$NUMPY_VERSION"
  fi
  rm -rf .venv
  ln -s "$VENV" .venv
  echo "setup: .venv -> $VENV"
fi

scripts/deps.sh
