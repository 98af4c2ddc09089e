#!/usr/bin/env bash
# install-deps.sh — installs everything roost's build, tests and main job need on a fresh
# Debian 12 machine. Idempotent: packages already present are left as they are, and apt is
# not touched at all when nothing is missing. Run as root (or with sudo available).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev                      # libtorch 1.13 (CPU) with its CMake config
  libopenmpi-dev openmpi-bin        # MPI: headers, libmpi, mpirun
  libhdf5-dev                       # HDF5 weights, checkpoints and packs
  libcxxopts-dev                    # command-line parsing
  libgtest-dev                      # GoogleTest
  libturbojpeg0-dev libjpeg62-turbo-dev libpng-dev zlib1g-dev
  libcurl4-openssl-dev              # downloads (roost data fowl)
  dataset-fashion-mnist             # the embedded default dataset
  python3-torch python3-torchvision python3-h5py python3-numpy python3-pil  # parity peers
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
