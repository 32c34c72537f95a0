#!/usr/bin/env bash
# The CPU-sized CamVid runs reported in the README (real CamVid, SegNet
# release). Usage: bash scripts/camvid_cpu_experiments.sh CAMVID_ROOT STEP
#   STEP = baseline | contrast | cp2-pretrain | cp2-finetune | random-finetune
#          | spc-pretrain | spc-finetune   (label-efficient, Zhao et al.)
# The stock configs are shrunk with --cfg-options only: ResNet-18 instead of
# 50, no ImageNet weights (none can be downloaded here), half resolution
# (240x180), output stride 16, batch 4, ITERS iterations (default 400).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PY:-$ROOT/.venv/bin/python}"
DATA="$1"
STEP="$2"
ITERS="${ITERS:-400}"
SEED="${SEED:-0}"  # fine-tuning runs with SEED != 0 go to <step>-seed<SEED>
WORK="${WORK:-work_dirs/camvid_cpu}"
data_opts=(
  "train_dataloader.dataset.data_root=$DATA"
  "val_dataloader.dataset.data_root=$DATA"
  "test_dataloader.dataset.data_root=$DATA"
  "train_dataloader.batch_size=4" "train_dataloader.num_workers=2"
  "val_dataloader.num_workers=1" "test_dataloader.num_workers=1"
  "train_dataloader.dataset.pipeline.3.scale=(240,180)"
  "train_dataloader.dataset.pipeline.4.crop_size=(180,240)"
  "val_dataloader.dataset.pipeline.1.scale=(240,180)"
  "test_dataloader.dataset.pipeline.1.scale=(240,180)"
  "model.data_preprocessor.size=(180,240)"
  "train_cfg.max_iters=$ITERS" "train_cfg.val_interval=$ITERS"
  "param_scheduler.0.end=$ITERS"
  "default_hooks.checkpoint.interval=$ITERS" "default_hooks.logger.interval=50"
  "randomness.seed=$SEED"
)
r18_os16=(  # ResNet-18, output stride 16 (dilated D8 is 3x slower on a CPU)
  "model.pretrained=None" "model.backbone.depth=18"
  "model.backbone.strides=(1,2,2,1)" "model.backbone.dilations=(1,1,1,2)"
  "model.decode_head.in_channels=512" "model.decode_head.channels=128"
  "model.auxiliary_head.in_channels=256" "model.auxiliary_head.channels=64"
)
train_test() {  # CONFIG NAME extra-opts...
  local cfg=$1 name=$2; shift 2
  "$PY" tools/train.py "$cfg" --work-dir "$WORK/$name" --cfg-options "${data_opts[@]}" "$@"
  "$PY" tools/test.py "$cfg" "$WORK/$name/iter_$ITERS.pth" --work-dir "$WORK/$name/test" \
    --cfg-options "${data_opts[@]}" "$@" | tee "$WORK/$name/test.log"
}
case "$STEP" in
  baseline)
    train_test configs/deeplabv3/deeplabv3_r50-d8_4xb4-20k_camvid-360x480.py baseline "${r18_os16[@]}" ;;
  contrast)
    # anchors at 1/16 of 180x240: a class needs > 20 pixels there (min_pixels)
    train_test configs/pixel_contrast/deeplabv3-contrast_r50-d8_4xb4-20k_camvid-360x480.py contrast \
      "${r18_os16[@]}" "model.decode_head.loss_contrast.warmup_iters=100" \
      "model.decode_head.loss_contrast.min_pixels=20" ;;
  cp2-pretrain)
    "$PY" tools/train.py configs/cp2/cp2_r18-d16-aspp_1xb16-300iter_camvid-imgs-96x96.py \
      --work-dir "$WORK/cp2_pretrain" --cfg-options \
      "train_dataloader.dataset.dataset.data_root=$DATA" "train_cfg.max_iters=$ITERS" \
      "param_scheduler.0.T_max=$ITERS" "param_scheduler.0.end=$ITERS" \
      "default_hooks.checkpoint.interval=$ITERS"
    "$PY" tools/model_converters/cp2_to_mmseg.py "$WORK/cp2_pretrain/iter_$ITERS.pth" \
      "$WORK/cp2_pretrain/converted.pth" \
      --config configs/cp2/deeplabv3_r18-d16-cp2_1xb8-2k_camvid-1-8-360x480.py ;;
  spc-pretrain)
    # stage 1 on the same 1/8 split, labels used by the contrastive loss only
    "$PY" tools/dataset_converters/camvid_subset.py "$DATA" --fraction 0.125 \
      --out "$WORK/train_1-8.txt"
    "$PY" tools/train.py \
      configs/label_efficient/deeplabv3-spc-pretrain_r18-d16_1xb8-300iter_camvid-1-8-360x480.py \
      --work-dir "$WORK/spc_pretrain" --cfg-options \
      "train_dataloader.dataset.data_root=$DATA" \
      "train_dataloader.dataset.ann_file=$ROOT/$WORK/train_1-8.txt" \
      "train_dataloader.dataset.pipeline.3.scale=(240,180)" \
      "train_dataloader.dataset.pipeline.4.crop_size=(180,240)" \
      "model.data_preprocessor.size=(180,240)" "train_cfg.max_iters=$ITERS" \
      "param_scheduler.0.end=$ITERS" "default_hooks.checkpoint.interval=$ITERS" \
      "default_hooks.logger.interval=20" "randomness.seed=$SEED" ;;
  cp2-finetune|random-finetune|spc-finetune)
    "$PY" tools/dataset_converters/camvid_subset.py "$DATA" --fraction 0.125 \
      --out "$WORK/train_1-8.txt"
    load="load_from=$WORK/cp2_pretrain/converted.pth"
    [ "$STEP" = random-finetune ] && load="load_from=None"
    [ "$STEP" = spc-finetune ] && load="load_from=$WORK/spc_pretrain/iter_$ITERS.pth"
    name="$STEP"; [ "$SEED" != 0 ] && name="$STEP-seed$SEED"
    train_test configs/cp2/deeplabv3_r18-d16-cp2_1xb8-2k_camvid-1-8-360x480.py "$name" \
      "train_dataloader.dataset.ann_file=$ROOT/$WORK/train_1-8.txt" "$load" ;;
  *) echo "unknown step $STEP" >&2; exit 2 ;;
esac
