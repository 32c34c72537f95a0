# Pixel contrast (Wang et al., ICCV 2021) on Cityscapes: the official
# ContrastiveSeg configs H_48_D_4.json (HRNet, also used for OCR) and
# R_101_D_8.json (DeepLabV3): tau 0.1, base tau 0.07, weight 0.1, 1024
# anchors, <= 100 views per (image, class), 5000 warm-up iterations, 256-d
# convmlp projection. Leaves use `loss_contrast=_base_.loss_contrast`.
# The anchor budget is GLOBAL here (ours): the official 1024 anchors per GPU
# on the official 4 GPUs (total batch 8) = 4096 shared by all processes, so
# the sampling does not change with the GPU count. For the official
# per-process budget: max_samples=1024, sample_budget='per_process'.
loss_contrast = dict(
    type='PixelContrastLoss',
    temperature=0.1,
    base_temperature=0.07,
    loss_weight=0.1,
    max_samples=4096,
    sample_budget='global',
    max_views=100,
    warmup_iters=5000,
    contrast_with='batch')
proj_cfg = dict(channels=256, proj_type='convmlp')
