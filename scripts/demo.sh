#!/usr/bin/env bash
# The embedded default: synthetic data -> train -> test -> mIoU, on the CPU.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PY:-$ROOT/.venv/bin/python}"
CFG=configs/demo/deeplabv3_r18-d8_1xb8-300_synthetic-64x64.py
WORK="${DEMO_DIR:-work_dirs/demo}"
DATA=data/synthetic_shapes
echo "[demo] 1/3 writing the synthetic shapes data set to $DATA (deterministic, seed 0)"
"$PY" tools/dataset_converters/make_synthetic_shapes.py "$DATA"
echo "[demo] 2/3 training DeepLabV3-R18 for 300 iterations on the CPU -> $WORK"
"$PY" tools/train.py "$CFG" --work-dir "$WORK"
echo "[demo] 3/3 testing $WORK/iter_300.pth"
"$PY" tools/test.py "$CFG" "$WORK/iter_300.pth" --work-dir "$WORK/test" | tee "$WORK/test.log"
grep -E "mIoU" "$WORK/test.log" | tail -n 1
