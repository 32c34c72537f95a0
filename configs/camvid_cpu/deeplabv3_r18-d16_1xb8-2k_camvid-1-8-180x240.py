# The CPU protocol for CamVid (docs/results.md): DeepLabV3 with ResNet-18,
# output stride 16 and a 128-channel ASPP head (the model of the CamVid CP2
# and label-efficient CPU configs), random init (no ImageNet weights can be
# downloaded here), trained on half-resolution frames (240x180, crops of
# 180x240), batch 8, SGD lr 0.01 poly, cross-entropy, tested at 240x180 on
# the 233 test images. ``train_split`` names the label fraction: a split file
# written by tools/make_split.py (absolute, or relative to data_root);
# '' = all 367 training images. Every other CPU CamVid config inherits this
# one and changes the method only; tools/benchmark/run_matrix.py changes
# max_iters, the split, the seed and load_from through config keys.
_base_ = [
    '../cp2/deeplabv3_r18-d16-cp2_1xb8-2k_camvid-1-8-360x480.py'
]
crop_size = (180, 240)
scale = (240, 180)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ValidateSegLabels', num_classes=11, ignore_index=255),
    dict(type='RandomResize', scale=scale, ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=scale, keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='ValidateSegLabels', num_classes=11, ignore_index=255),
    dict(type='PackSegInputs')
]
model = dict(data_preprocessor=dict(size=crop_size))
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    dataset=dict(ann_file='splits/train_1-8.txt', pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=1, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(
    num_workers=1, dataset=dict(pipeline=test_pipeline))
optim_wrapper = dict(optimizer=dict(lr=0.01, weight_decay=5e-4))  # mmseg's stock wd
load_from = None
max_iters = 2000
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=250)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    checkpoint=dict(interval=max_iters, save_best=None, max_keep_ckpts=1))
