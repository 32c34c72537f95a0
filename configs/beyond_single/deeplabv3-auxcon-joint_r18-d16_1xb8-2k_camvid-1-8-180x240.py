# The joint mode on the CPU CamVid protocol: cross-entropy on the labelled
# 1/8 split plus the auxiliary-label contrast (weight 0.1, ours) on the
# same images, two views each; evaluated like the CE rows.
_base_ = [
    '../camvid_cpu/deeplabv3_r18-d16_1xb8-2k_camvid-1-8-180x240.py',
    '../_base_/aux_contrast.py'
]
model = dict(
    _base_.aux_model,
    with_ce=True,
    loss_aux_contrast=dict(_base_.loss_aux_contrast, loss_weight=0.1))
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
    dict(type='LoadAnnotations'),
    dict(type='ValidateSegLabels', num_classes=11, ignore_index=255),
    dict(type='LoadAuxLabel', aux_root='work_dirs/aux_labels/camvid',
         num_aux=32),
    dict(type='AddSourceCoords'),
    dict(type='TwoViews', view_pipeline=view_pipeline)
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
