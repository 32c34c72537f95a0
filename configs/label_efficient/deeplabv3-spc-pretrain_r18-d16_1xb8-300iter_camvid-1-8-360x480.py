# CPU-sized stage 1 on CamVid: the DeepLabV3 R18 OS16 of the CamVid CP2
# fine-tuning config, random init, trained with the label-based contrastive
# loss only on the same 1/8 split; stage 2 is that config with load_from.
# At 1/16 of 180x240 the ASPP output is 12x15: the loss runs there.
_base_ = [
    '../cp2/deeplabv3_r18-d16-cp2_1xb8-2k_camvid-1-8-360x480.py',
    '../_base_/label_efficient_pretrain.py'
]
model = dict(
    type='LabelContrastEncoderDecoder',
    pretrained=None,
    view_aug=_base_.view_aug,
    decode_head=dict(
        type='LabelContrastASPPHead',
        proj_cfg=_base_.proj_cfg,
        loss_contrast=dict(_base_.loss_contrast, resize_size=None)))
load_from = None
optim_wrapper = dict(optimizer=dict(lr=0.01))
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=300,
         by_epoch=False)
]
train_cfg = dict(max_iters=300, val_interval=300)
default_hooks = dict(checkpoint=dict(interval=300))
# stage 1 does not train conv_seg: nothing to validate
val_dataloader = None
val_cfg = None
val_evaluator = None
