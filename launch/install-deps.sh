#!/usr/bin/env bash
# install-deps.sh — installs everything roost's build, tests and main job need on a fresh
# Debian 12 machine. Idempotent: packages already present are left as they are, and apt is
# not touched at all when nothing is missing. Run as root (or with sudo available).
# This list is the only one: both Docker images run this script, and
# tests/e2e/package_lists_test.sh checks that they install nothing else unexplained.
#
#   launch/install-deps.sh [--without PKG]... [--list]
#     --without PKG  leave PKG out (docker/Dockerfile: libtorch-dev, as it builds against a
#                    CUDA libtorch instead)
#     --list         print the packages that would be installed, one a line, and touch nothing
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev                      # libtorch 1.13 (CPU) with its CMake config
  libopenmpi-dev openmpi-bin        # MPI: headers, libmpi, mpirun
  libhdf5-dev                       # HDF5 weights, checkpoints and packs
  libcxxopts-dev                    # command-line parsing
  nlohmann-json3-dev                # JSON: run.json, checkpoint identities
  libonnx-dev libprotobuf-dev       # roost export --format onnx: the ONNX protobuf classes
  python3-onnx                      # tests/e2e/export_test.sh: the ONNX checker
  libcpp-httplib-dev libbrotli-dev  # roost serve: the HTTP server (and what its header includes)
  libdnnl-dev                       # roost predict/serve on CPU: oneDNN's own API (Winograd, fused ReLU and shortcut)
  libssl-dev                        # libcrypto: SHA-256 of the model registry's files; roost serve's HTTP header
  curl                              # tests/e2e/serve_test.sh talks to roost serve with curl
  npm                               # roost ui's chart library (uPlot, pinned) from the npm registry at configure time
  chromium chromium-driver          # tests/e2e/ui_test.sh: roost ui's page in headless Chromium, driven over WebDriver
  libgtest-dev                      # GoogleTest
  clang-format                      # tests/format_check.sh: the sources' layout (.clang-format)
  libturbojpeg0-dev libjpeg62-turbo-dev libpng-dev zlib1g-dev
  libcairo2-dev fonts-dejavu-core    # the training-curves PNG: drawing, and the face its text is set in
  libcurl4-openssl-dev              # downloads (roost data fowl)
  libzip-dev                        # zip archives (roost data fowl unpacks the dataset)
  libsqlite3-dev                    # the run store and model registry (roost submit, runs, models)
  sqlite3                           # the submit tests read the run store with the sqlite3 program
  slurm-client                      # sbatch, scontrol, scancel: roost submit --target slurm
  slurmctld slurmd munge            # tests/e2e/submit_slurm_test.sh starts a one-node Slurm
  openssh-server iproute2           # mpirun's ssh to other nodes (--target hosts, MPIJob workers); tests/netns/nodes.sh's namespaced nodes
  dataset-fashion-mnist             # the embedded default dataset
  python3-torch python3-torchvision python3-h5py python3-numpy python3-pil  # parity peers
  python3-yaml                      # tests/e2e/mpijob_template_test.sh reads the MPIJob
  python3-optuna                    # tests/unit/sweep_policy_test.cc: MedianPruner as the median rule's oracle
)

list_only=0
without=()
while [ $# -gt 0 ]; do
  case $1 in
    --list) list_only=1 ;;
    --without) [ $# -ge 2 ] || { echo "install-deps: --without needs a package" >&2; exit 2; }
               without+=("$2"); shift ;;
    *) echo "install-deps: unknown argument '$1' (use --without PKG or --list)" >&2; exit 2 ;;
  esac
  shift
done
for w in "${without[@]}"; do  # a misspelt name would otherwise leave nothing out, silently
  [[ " ${PACKAGES[*]} " == *" $w "* ]] || { echo "install-deps: --without $w: not in the list" >&2; exit 2; }
done
wanted=()
for p in "${PACKAGES[@]}"; do
  [[ " ${without[*]} " == *" $p "* ]] || wanted+=("$p")
done
if [ $list_only -eq 1 ]; then
  printf '%s\n' "${wanted[@]}"
  exit 0
fi

missing=()
for p in "${wanted[@]}"; do
  # An npm that came with another Node.js (say NodeSource's nodejs, which conflicts with
  # Debian's npm package) serves as well: only the command is needed.
  [ "$p" = npm ] && command -v npm >/dev/null && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#wanted[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
