# CP2 on the CamVid training images (labels unused) on the CPU: a
# ResNet-18 OS16 + ASPP, 96x96 composites (6 x 6 feature cells), batch 16.
# A small stand-in for ImageNet pretraining that runs on 2 CPU cores; the
# fine-tuning config is ../cp2/deeplabv3_r18-d16-cp2_1xb8-2k_camvid-1-8-360x480.py.
# Queue and momentum are scaled to the data set and the schedule: the queue
# (256) is shorter than the 367 training images, so it rarely holds a key of
# the query's own image as a negative (a 4096 queue holds ~11 per image and
# the instance loss rose for all 200 iterations we ran it), and m = 0.99
# (EMA momentum 0.01) lets the key encoder follow in a few hundred steps.
_base_ = ['../_base_/models/cp2_r50-d16-aspp.py', 'mmseg::_base_/default_runtime.py']
custom_imports = dict(imports=['cp2_mmseg'], allow_failed_imports=False)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(depth=18, norm_cfg=norm_cfg),
    decode_head=dict(in_channels=512, channels=128, norm_cfg=norm_cfg),
    proj_channels=128,
    queue_len=256,
    momentum=0.01)
view = [
    dict(type='RandomResizedCrop', scale=96, crop_ratio_range=(0.2, 1.),
         backend='pillow'),
    dict(type='RandomApply', transforms=[dict(type='ColorJitter',
         brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)], prob=0.8),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
         channel_weights=(0.114, 0.587, 0.2989)),
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf',
         prob=0.5),
    dict(type='RandomFlip', prob=0.5),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    drop_last=True,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='CopyPasteDataset',
        dataset=dict(
            type='CamVidDataset',
            data_root='data/camvid',
            data_prefix=dict(img_path='train', seg_map_path='trainannot'),
            pipeline=[dict(type='LoadImageFromFile')]),
        pipeline=[
            dict(type='CopyPaste', view_pipeline=view),
            dict(type='PackCopyPasteInputs')
        ]))
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.03, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=300, by_epoch=False, begin=0,
         end=300)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=300)
val_dataloader = val_cfg = val_evaluator = None
test_dataloader = test_cfg = test_evaluator = None
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=300),
    visualization=dict(type='SegVisualizationHook', draw=False))
randomness = dict(seed=0)
