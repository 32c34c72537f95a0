# Stage 1 of the auxiliary-label method on PASCAL VOC aug (10582 images,
# labels unused): DeepLabV3-R50-D8, the auxiliary-label contrast alone, two
# views each, the stock 20k schedule (ours). The stock VOC-aug train set is
# a ConcatDataset of VOC train and SBD aug; both get the two-view pipeline.
# Stage 2: deeplabv3_r50-d8_4xb4-20k_voc12aug-512x512_auxcon-finetune.py
_base_ = [
    '../deeplabv3/deeplabv3_r50-d8_4xb4-20k_voc12aug-512x512.py',
    '../_base_/aux_contrast.py'
]
model = dict(_base_.aux_model, auxiliary_head=None)
crop_size = (512, 512)
view_pipeline = [
    dict(type='RandomResize', scale=(2048, 512), ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackAuxSegInputs')
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAuxLabel', aux_root='data/VOCdevkit/VOC2012/aux_labels',
         num_aux=64),
    dict(type='AddSourceCoords'),
    dict(type='TwoViews', view_pipeline=view_pipeline)
]
train_dataloader = dict(
    dataset=dict(
        type='ConcatDataset',
        datasets=[
            dict(_base_.dataset_train, pipeline=train_pipeline),
            dict(_base_.dataset_aug, pipeline=train_pipeline)
        ]))
val_dataloader = val_cfg = val_evaluator = None
train_cfg = dict(val_interval=20001)
default_hooks = dict(checkpoint=dict(save_best=None))
find_unused_parameters = True
