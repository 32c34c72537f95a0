#!/usr/bin/env bash
# Install cp2-mmseg from an offline bundle (scripts/bundle.sh) on a machine
# without internet that has Python and torch (+ torchvision) already.
#
#   bash install_offline.sh [VENV]        (run inside the bundle folder)
#
# Creates VENV (default ./venv) with --system-site-packages so the
# machine's own torch is used, installs the bundled wheels with --no-index,
# builds mmcv with ops from the bundled source (CUDA ops when nvcc and a
# CUDA torch are present; the C++ standard follows the torch headers), and
# unpacks the repository to ./cp2-mmseg. MMCV_WHEEL=/path/to/mmcv-2.1.0-*.whl
# installs an mmcv already built for this Python and torch instead of
# building it (e.g. one built by an earlier run or by the cluster's admins).
# Then:
#   cd cp2-mmseg && ../venv/bin/python -m pytest tests/test_models/test_cuda.py
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${1:-$HERE/venv}"
PYTHON="${PYTHON:-python3}"
step() { printf '\n[cp2-mmseg offline install] %s\n' "$*"; }
fail() { printf '\n[cp2-mmseg offline install] FAILED: %s\n' "$*" >&2; exit 1; }

"$PYTHON" -c "import torch" 2>/dev/null || fail "$PYTHON has no torch"
step "python $("$PYTHON" --version 2>&1), torch $("$PYTHON" -c 'import torch; print(torch.__version__, torch.version.cuda)')"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv --system-site-packages "$VENV"
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)
step "wheels (no index)"
"${PIP[@]}" install -q --no-index --find-links "$HERE/wheels" \
  "setuptools<70" wheel ninja packaging addict yapf opencv-python psutil
"${PIP[@]}" install -q --no-index --find-links "$HERE/wheels" --no-deps \
  mmengine==0.10.7 || fail "mmengine"

if [ -n "${MMCV_WHEEL:-}" ]; then
  [ -f "$MMCV_WHEEL" ] || fail "MMCV_WHEEL=$MMCV_WHEEL is not a file"
  step "mmcv from $MMCV_WHEEL (not built)"
  "${PIP[@]}" install -q --no-index --no-deps "$MMCV_WHEEL" || fail "mmcv wheel $MMCV_WHEEL"
else
  step "mmcv with ops from source (minutes; MAX_JOBS=${MAX_JOBS:-8})"
  BUILD="$(mktemp -d)"
  tar -xzf "$HERE"/src/mmcv-2.1.0.tar.gz -C "$BUILD"
  SRC="$BUILD/mmcv-2.1.0"
  # torch >= 2.10 headers need C++20 (measured with 2.14); older ones C++17
  STD=$("$PY" -c "import torch; v = tuple(int(x) for x in torch.__version__.split('.')[:2]); print('c++20' if v >= (2, 10) else 'c++17')")
  sed -i -e "s/-std=c++14/-std=$STD/g" -e "s/-std=c++17/-std=$STD/g" \
    -e "s/'c++14'/'$STD'/g" -e "s/'c++17'/'$STD'/g" "$SRC/setup.py"
  CUDA_OPS=0
  if command -v nvcc >/dev/null && "$PY" -c "import torch,sys; sys.exit(not torch.version.cuda)"; then
    CUDA_OPS=1
  fi
  step "C++ standard $STD, CUDA ops: $CUDA_OPS"
  ( cd "$SRC" && MMCV_WITH_OPS=1 FORCE_CUDA=$CUDA_OPS MAX_JOBS="${MAX_JOBS:-8}" \
      "${PIP[@]}" install --no-build-isolation --no-deps --no-index . ) \
    > "$BUILD/build.log" 2>&1 || { tail -n 40 "$BUILD/build.log"; fail "mmcv build"; }
fi

step "the rest (no index)"
tar -xzf "$HERE/cp2-mmseg.tar.gz" -C "$HERE"
"${PIP[@]}" install -q --no-index --find-links "$HERE/wheels" \
  -r "$HERE/cp2-mmseg/requirements.txt" || fail "requirements"
"${PIP[@]}" install -q --no-index --no-deps --no-build-isolation \
  -e "$HERE/cp2-mmseg" || fail "cp2-mmseg"
"$PY" -c "import mmcv.ops, mmseg, mmpretrain, cp2_mmseg; print('import check ok')" \
  || fail "import check"
step "done: $PY"
