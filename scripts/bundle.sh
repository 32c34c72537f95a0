#!/usr/bin/env bash
# An offline bundle of cp2-mmseg for a machine without internet (e.g. an
# air-gapped GPU cluster with its own Python and torch).
#
#   bash scripts/bundle.sh [OUT_DIR] [TARGET_PYTHON_VERSION]   (or: make bundle)
#
# Run it here (package registries reachable). OUT_DIR (default
# dist/cp2-mmseg-offline) gets:
#   wheels/            every pure-Python / binary wheel we need besides torch,
#                      for CPython TARGET_PYTHON_VERSION (default 3.12) on
#                      manylinux x86_64, with their dependencies
#   src/mmcv-2.1.0.tar.gz   the mmcv source (mmseg needs mmcv with ops; no
#                      wheel fits an arbitrary torch / CUDA, so it is built
#                      on the target)
#   cp2-mmseg.tar.gz   this repository at HEAD (git archive)
#   install_offline.sh the installer to run on the target
# Copy OUT_DIR to the target and run `bash install_offline.sh` there.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/dist/cp2-mmseg-offline}"
PYV="${2:-3.12}"
PY="${PY:-$ROOT/.venv/bin/python}"
MMCV_VERSION=2.1.0
mkdir -p "$OUT/wheels" "$OUT/src"
step() { printf '\n[cp2-mmseg bundle] %s\n' "$*"; }

step "wheels for CPython $PYV (manylinux x86_64) -> $OUT/wheels"
# the runtime requirements (requirements.txt), then mmcv's build / runtime
# needs (setuptools<70 for its build, in a separate resolution), torch
# excluded: the target brings its own
WHEEL_OPTS=(-q -d "$OUT/wheels" --only-binary=:all: --python-version "$PYV"
  --implementation cp --platform manylinux2014_x86_64
  --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64
  --platform any)
"$PY" -m pip download "${WHEEL_OPTS[@]}" -r "$ROOT/requirements.txt"
"$PY" -m pip download "${WHEEL_OPTS[@]}" "setuptools<70" wheel ninja \
  packaging addict yapf opencv-python psutil "numpy<2"

step "mmcv $MMCV_VERSION source -> $OUT/src"
"$PY" -m pip download -q --no-deps --no-binary=:all: "mmcv==$MMCV_VERSION" \
  -d "$OUT/src"

step "this repository (HEAD) -> $OUT/cp2-mmseg.tar.gz"
git -C "$ROOT" archive --format=tar.gz --prefix=cp2-mmseg/ -o \
  "$OUT/cp2-mmseg.tar.gz" HEAD

cp "$ROOT/scripts/install_offline.sh" "$OUT/install_offline.sh"
step "done: $(du -sh "$OUT" | cut -f1) in $OUT; $(ls "$OUT/wheels" | wc -l) wheels"
