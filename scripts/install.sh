#!/usr/bin/env bash
# Fresh-machine install of cp2-mmseg into a project virtual environment.
#
#   bash scripts/install.sh            (or: make install)
#
# Idempotent: a second run re-uses the venv and the cached mmcv wheel.
# Environment knobs:
#   VENV            venv path (default: .venv in the repository)
#   PYTHON          interpreter used to create the venv (default: python3.11
#                   if present, else python3)
#   CP2_MMSEG_CACHE where the built mmcv wheel is kept
#                   (default: ~/.cache/cp2-mmseg)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
CACHE="${CP2_MMSEG_CACHE:-$HOME/.cache/cp2-mmseg}"
WHEELS="$CACHE/wheels"
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"

TORCH_VERSION=2.14.1
TORCHVISION_VERSION=0.29.1
MMCV_VERSION=2.1.0
MMENGINE_VERSION=0.10.7
MMSEG_VERSION=1.2.2
MMPRETRAIN_VERSION=1.2.0

step() { printf '\n[cp2-mmseg install] %s\n' "$*"; }
fail() { printf '\n[cp2-mmseg install] FAILED: %s\n' "$*" >&2; exit 1; }
trap 'fail "command on line $LINENO exited with $? (see the output above)"' ERR

step "python: $PYTHON ($("$PYTHON" --version 2>&1)); venv: $VENV; cache: $CACHE"
if [ ! -x "$VENV/bin/python" ]; then
  step "creating the virtual environment"
  "$PYTHON" -m venv "$VENV" || fail "could not create a venv with $PYTHON"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)

step "torch==$TORCH_VERSION torchvision==$TORCHVISION_VERSION"
# torch 2.14 wants setuptools>=77; mmengine 0.10.7 imports pkg_resources,
# which setuptools 81 removed (mmseg:: / mmpretrain:: configs need it).
SETUPTOOLS_SPEC="setuptools>=77,<81"
"${PIP[@]}" install -q "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION" \
  "$SETUPTOOLS_SPEC" || fail "torch/torchvision install failed"

"${PIP[@]}" install -q "numpy<2" || fail "numpy install failed"

mkdir -p "$WHEELS"
if "$PY" -c "import mmcv, mmcv.ops, sys; sys.exit(mmcv.__version__ != '$MMCV_VERSION')" 2>/dev/null; then
  step "mmcv $MMCV_VERSION with ops already installed"
else
  WHEEL="$(ls "$WHEELS"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n1 || true)"
  if [ -n "$WHEEL" ]; then
    step "mmcv $MMCV_VERSION: installing the cached wheel $WHEEL (seconds)"
  else
    step "mmcv $MMCV_VERSION: no cached wheel, building it from the sdist with ops"
    step "this takes about 20 minutes on 2 cores; it is cached in $WHEELS afterwards"
    step "build tools for mmcv (setuptools<70, wheel, ninja)"
    "${PIP[@]}" install -q "setuptools<70" wheel ninja \
      || fail "build tools install failed"
    BUILD="$(mktemp -d)"
    "${PIP[@]}" download -q --no-deps --no-binary :all: "mmcv==$MMCV_VERSION" -d "$BUILD" \
      || fail "could not download the mmcv $MMCV_VERSION sdist"
    tar -xzf "$BUILD"/mmcv-"$MMCV_VERSION".tar.gz -C "$BUILD"
    SRC="$BUILD/mmcv-$MMCV_VERSION"
    # torch 2.14's headers need C++20; mmcv 2.1.0 asks for C++14/17.
    sed -i -e 's/-std=c++14/-std=c++20/g' -e 's/-std=c++17/-std=c++20/g' \
      -e "s/'c++14'/'c++20'/g" -e "s/'c++17'/'c++20'/g" "$SRC/setup.py"
    grep -q 'c++20' "$SRC/setup.py" || fail "could not patch mmcv's setup.py to C++20"
    ( cd "$SRC" && MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-2}" FORCE_CUDA=0 \
        "${PIP[@]}" wheel -v --no-build-isolation --no-deps -w "$WHEELS" . ) \
      > "$BUILD/build.log" 2>&1 &
    BUILD_PID=$!
    while kill -0 "$BUILD_PID" 2>/dev/null; do
      sleep 30
      printf '[cp2-mmseg install] mmcv build running (%s compiled objects so far)\n' \
        "$(find "$SRC/build" -name '*.o' 2>/dev/null | wc -l)"
    done
    wait "$BUILD_PID" || { tail -n 40 "$BUILD/build.log" >&2; fail "mmcv build failed; full log: $BUILD/build.log"; }
    WHEEL="$(ls "$WHEELS"/mmcv-"$MMCV_VERSION"-*.whl | head -n1)"
    step "built $WHEEL"
    "${PIP[@]}" install -q "$SETUPTOOLS_SPEC" || fail "setuptools restore failed"
  fi
  "${PIP[@]}" install -q --no-deps "$WHEEL" || fail "could not install $WHEEL"
fi

step "mmengine, mmsegmentation, mmpretrain and their requirements"
"${PIP[@]}" install -q "mmcv==$MMCV_VERSION" "mmengine==$MMENGINE_VERSION" \
  "mmsegmentation==$MMSEG_VERSION" "mmpretrain==$MMPRETRAIN_VERSION" \
  "$SETUPTOOLS_SPEC" -r "$ROOT/requirements.txt" || fail "OpenMMLab packages install failed"

step "cp2-mmseg itself (editable)"
"${PIP[@]}" install -q --no-build-isolation --no-deps -e "$ROOT" || fail "pip install -e . failed"

step "checking the imports"
"$PY" - "$ROOT" <<'PY' || fail "the environment does not import"
import torch, torchvision, mmcv, mmcv.ops, mmengine, mmseg, mmpretrain
import pkg_resources  # noqa: F401  mmengine needs it for mmseg:: configs
import os.path as osp, sys
from mmengine.config import Config
Config.fromfile(osp.join(sys.argv[1], 'configs/deeplabv3/'
                         'deeplabv3_r50-d8_4xb4-20k_voc12aug-512x512.py'))
import cp2_mmseg
print(f'torch {torch.__version__}, torchvision {torchvision.__version__}, '
      f'mmcv {mmcv.__version__} (ops), mmengine {mmengine.__version__}, '
      f'mmseg {mmseg.__version__}, mmpretrain {mmpretrain.__version__}, '
      f'cp2_mmseg {cp2_mmseg.__version__}')
PY
step "done. Activate with: source $VENV/bin/activate"
