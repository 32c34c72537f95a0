# Stage 1 of the auxiliary-label method on the CPU CamVid protocol
# (configs/camvid_cpu/): the DeepLabV3 R18 OS16 of that protocol, random
# init, trained with the auxiliary-label pixel contrast alone on all 367
# training images (their labels unused: no LoadAnnotations), two views per
# image, 500 iterations (16 views each). Stage 2:
# deeplabv3_r18-d16_1xb8-2k_camvid-1-8-180x240_auxcon-finetune.py.
#   python tools/train.py THIS --transform-options \
#       LoadAuxLabel.aux_root=work_dirs/aux_labels/camvid_ce-1-8_k32 \
#       LoadAuxLabel.num_aux=32
_base_ = [
    '../camvid_cpu/deeplabv3_r18-d16_1xb8-2k_camvid-1-8-180x240.py',
    '../_base_/aux_contrast.py'
]
model = dict(_base_.aux_model)
crop_size = (180, 240)
view_pipeline = [
    dict(type='RandomResize', scale=(240, 180), ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackAuxSegInputs')
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAuxLabel', aux_root='work_dirs/aux_labels/camvid',
         num_aux=32),
    dict(type='AddSourceCoords'),
    dict(type='TwoViews', view_pipeline=view_pipeline)
]
train_dataloader = dict(
    dataset=dict(ann_file='', pipeline=train_pipeline))
max_iters = 500
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
default_hooks = dict(checkpoint=dict(interval=max_iters))
# stage 1 does not train conv_seg: nothing to validate, and DDP must allow
# the unused conv_seg
val_dataloader = val_cfg = val_evaluator = None
find_unused_parameters = True
