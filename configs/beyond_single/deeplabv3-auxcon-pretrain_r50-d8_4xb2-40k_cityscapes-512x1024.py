# Stage 1 of the auxiliary-label method on Cityscapes: DeepLabV3-R50-D8
# (ImageNet init as stock), the auxiliary-label pixel contrast alone on the
# 2975 training images (labels unused), two views each. Schedule: the stock
# 40k (ours: the paper's pretraining schedule is unknown).
# Auxiliary labels: tools/generate_aux_labels.py writes <stem>.png per image
# (img_suffix '_leftImg8bit.png' stripped) into aux_root.
# Stage 2: deeplabv3_r50-d8_4xb2-40k_cityscapes-512x1024_auxcon-finetune.py
_base_ = [
    '../deeplabv3/deeplabv3_r50-d8_4xb2-40k_cityscapes-512x1024.py',
    '../_base_/aux_contrast.py'
]
model = dict(_base_.aux_model, auxiliary_head=None)
crop_size = (512, 1024)
view_pipeline = [
    dict(type='RandomResize', scale=(2048, 1024), ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackAuxSegInputs')
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAuxLabel', aux_root='data/cityscapes/aux_labels',
         num_aux=64, img_suffix='_leftImg8bit.png'),
    dict(type='AddSourceCoords'),
    dict(type='TwoViews', view_pipeline=view_pipeline)
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = val_cfg = val_evaluator = None
train_cfg = dict(val_interval=40001)
default_hooks = dict(checkpoint=dict(save_best=None))
find_unused_parameters = True
