# CPU-sized fine-tuning for the CamVid CP2 experiment: DeepLabV3 with the
# ResNet-18 OS16 + ASPP of cp2_r18-d16-aspp_1xb16-300iter_camvid-imgs-96x96,
# on 1/8 of the CamVid train split (splits/train_1-8.txt, written by
# tools/make_split.py --fraction 1/8), 2k iterations, tested on test.
# load_from: the converted CP2 checkpoint, or None for random init.
_base_ = ['./deeplabv3_r50-d16-cp2_4xb4-20k_camvid-360x480.py']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(depth=18, norm_cfg=norm_cfg),
    decode_head=dict(in_channels=512, channels=128, norm_cfg=norm_cfg))
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    dataset=dict(ann_file='splits/train_1-8.txt'))
optim_wrapper = dict(optimizer=dict(lr=0.01))
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=2000,
         by_epoch=False)
]
train_cfg = dict(max_iters=2000, val_interval=2000)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    checkpoint=dict(interval=2000, save_best=None))
load_from = 'work_dirs/cp2_camvid/converted.pth'
randomness = dict(seed=0)
