# Stage 1 of label-efficient contrastive pretraining (Zhao et al., ICCV 2021),
# as a delta over a stock DeepLabV3+ / DeepLabV3 config: the segmentor runs
# every image and a colour-jittered view of it, the decode head trains with
# the label-based pixel contrastive loss only (no CE, no auxiliary head),
# and there is no validation (conv_seg is not trained in stage 1). Stage 2
# is the stock config with `load_from` = the stage-1 checkpoint.
# Official loss defaults: cross-image form, T = 0.07, 2-layer 256-d head.
# Unknown in the paper / code, hence knobs: resize_size (the resolution
# the loss runs at), the jitter strengths, the schedule.
view_aug = dict(
    type='BatchPhotometricJitter',
    brightness=0.4,
    contrast=0.4,
    saturation=0.4,
    gray_prob=0.2)
proj_cfg = dict(channels=256, hidden_channels=256, proj_type='convmlp')
loss_contrast = dict(
    type='SupervisedPixelContrastLoss',
    mode='cross',
    temperature=0.07,
    resize_size=(64, 64),
    exclude_self=False,
    loss_weight=1.0)
# conv_seg (and the CE loss) is unused in stage 1
find_unused_parameters = True
# (the leaves switch validation off: val_dataloader/val_cfg/val_evaluator =
# None, which cannot live in a second base)
