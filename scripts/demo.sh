#!/usr/bin/env bash
# make demo: a synthetic set -> the baseline and one of our methods -> test
# -> per-class IoU against chance and a picture. CPU only, no download.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PY:-$ROOT/.venv/bin/python}"
WORK="${DEMO_DIR:-work_dirs/demo}"
DATA=data/synthetic_demo
ITERS=600
CE=configs/demo/deeplabv3_r18w16-d8_1xb16-600_synthetic-demo-64x64.py
PC=configs/demo/deeplabv3-contrast_r18w16-d8_1xb16-600_synthetic-demo-64x64.py
START=$(date +%s)
mkdir -p "$WORK/ce" "$WORK/contrast"
echo "[demo] This demo runs on SYNTHETIC images (grey textures with coloured"
echo "[demo] discs, squares and triangles), made to be learnable in minutes on"
echo "[demo] a CPU. Its numbers say nothing about real data: see docs/results.md."
echo "[demo] 1/5 writing the synthetic set to $DATA (400 train + 50 test, 64x64, seed 0)"
"$PY" tools/dataset_converters/make_synthetic_shapes.py "$DATA" \
    --num-train 400 --num-val 50 --class-colours
echo "[demo] 2/5 baseline: DeepLabV3 (quarter-width ResNet-18, random init), cross-entropy, $ITERS iterations"
"$PY" tools/train.py "$CE" --work-dir "$WORK/ce" > "$WORK/ce/train.log" 2>&1 \
    || { tail -n 30 "$WORK/ce/train.log"; exit 1; }
echo "[demo] 3/5 ours: the same + pixel contrast (Wang et al., ICCV 2021: projection head + supervised pixel-contrastive loss), $ITERS iterations"
"$PY" tools/train.py "$PC" --work-dir "$WORK/contrast" > "$WORK/contrast/train.log" 2>&1 \
    || { tail -n 30 "$WORK/contrast/train.log"; exit 1; }
echo "[demo] 4/5 tools/test.py on the 50 test images"
for run in ce contrast; do
    cfg=$CE; [ $run = contrast ] && cfg=$PC
    "$PY" tools/test.py "$cfg" "$WORK/$run/iter_$ITERS.pth" \
        --work-dir "$WORK/$run/test" > "$WORK/$run/test.log" 2>&1 \
        || { tail -n 30 "$WORK/$run/test.log"; exit 1; }
    echo "[demo]   $run: $(grep -Eo 'mIoU: [0-9.]+' "$WORK/$run/test.log" | tail -n 1)"
done
echo "[demo] 5/5 per-class IoU and a picture"
PYTHONWARNINGS=ignore "$PY" tools/demo_report.py "cross-entropy=$CE:$WORK/ce/iter_$ITERS.pth" \
    "+pixel contrast=$PC:$WORK/contrast/iter_$ITERS.pth" \
    --out "$WORK/predictions.png"
echo "[demo] done in $(( $(date +%s) - START )) s; logs: $WORK/{ce,contrast}/"
