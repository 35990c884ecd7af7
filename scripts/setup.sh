#!/usr/bin/env bash
# Installs everything the project needs, idempotently:
#   - Debian packages (compiler, CMake, OpenCV, CLI11, nlohmann-json, gnuplot, GoogleTest,
#     Google Benchmark, clang with libFuzzer for scripts/fuzz.sh, the Fashion-MNIST dataset
#     package, libzip and Debian's PyTorch for the PyTorch readers and their tests), with sudo
#     when not root;
#   - a project-local virtual environment .venv with the pinned TensorFlow wheel, whose
#     headers and shared libraries the C++ code is compiled and linked against.
# Re-running it does nothing when everything is already there.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TF_VERSION="2.21.0"
TB_VERSION="2.21.0"  # TensorBoard, to view a run's event file
VENV="${ALEXNET_VENV:-$ROOT/.venv}"

APT_PACKAGES=(
  build-essential cmake pkg-config
  python3 python3-venv python3-dev
  libopencv-dev libjpeg62-turbo-dev
  libcli11-dev nlohmann-json3-dev zlib1g-dev libcsv-dev
  protobuf-compiler libprotobuf-dev libssl-dev libzip-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev
  gnuplot-nox
  python3-torch python3-torchvision
  dataset-fashion-mnist
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Prefer Debian's interpreter, so the venv does not depend on a hand-installed Python.
PY=/usr/bin/python3
[[ -x $PY ]] || PY="$(command -v python3)"
if [[ ! -x "$VENV/bin/python" ]]; then
  echo "setup: creating virtual environment $VENV"
  "$PY" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import tensorflow as tf, sys; sys.exit(tf.__version__ != '$TF_VERSION')" 2>/dev/null; then
  echo "setup: installing tensorflow-cpu==$TF_VERSION into $VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "tensorflow-cpu==$TF_VERSION"
fi
if ! "$VENV/bin/python" -c "import tensorboard, sys; sys.exit(tensorboard.__version__ != '$TB_VERSION')" 2>/dev/null; then
  echo "setup: installing tensorboard==$TB_VERSION into $VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "tensorboard==$TB_VERSION"
fi
