# Stage 1 (label-based pixel contrast only) of Zhao et al. on PASCAL VOC
# 2012 aug, DeepLabV3+ R50-D8 (`model.pretrained=None`: from scratch).
_base_ = [
    'mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb4-20k_voc12aug-512x512.py',
    '../_base_/label_efficient_pretrain.py'
]
custom_imports = dict(imports=['cp2_mmseg'], allow_failed_imports=False)
model = dict(
    type='LabelContrastEncoderDecoder',
    view_aug=_base_.view_aug,
    decode_head=dict(
        type='LabelContrastSepASPPHead',
        proj_cfg=_base_.proj_cfg,
        loss_contrast=_base_.loss_contrast),
    auxiliary_head=None)
# stage 1 does not train conv_seg: nothing to validate
val_dataloader = None
val_cfg = None
val_evaluator = None
