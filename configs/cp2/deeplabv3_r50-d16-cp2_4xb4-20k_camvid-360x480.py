# Fine-tune DeepLabV3-R50 (OS16) from CP2 on CamVid (11 classes): the CP2
# recipe (SGD lr 0.003, wd 0, poly, no aux head) for 20k iterations.
_base_ = [
    '../_base_/models/deeplabv3_r50-d16_cp2.py', '../_base_/datasets/camvid.py',
    'mmseg::_base_/default_runtime.py', '../_base_/schedules/cp2_finetune_40k.py'
]
custom_imports = dict(imports=['cp2_mmseg'], allow_failed_imports=False)
crop_size = (360, 480)
model = dict(
    data_preprocessor=dict(size=crop_size), decode_head=dict(num_classes=11))
load_from = 'checkpoints/cp2_r50_converted.pth'
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=20000,
         by_epoch=False)
]
train_cfg = dict(max_iters=20000, val_interval=2000)
default_hooks = dict(checkpoint=dict(interval=2000))
