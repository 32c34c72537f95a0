# Stage 1 (label-based pixel contrast only) of Zhao et al. on Cityscapes,
# DeepLabV3+ R50-D8 from ImageNet (`model.pretrained=None` for the paper's
# from-scratch rows). For a label fraction, give both stages the same split:
#   --cfg-options train_dataloader.dataset.ann_file=splits/train_1-8.txt
_base_ = [
    'mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb2-40k_cityscapes-512x1024.py',
    '../_base_/label_efficient_pretrain.py'
]
custom_imports = dict(imports=['cp2_mmseg'], allow_failed_imports=False)
model = dict(
    type='LabelContrastEncoderDecoder',
    view_aug=_base_.view_aug,
    decode_head=dict(
        type='LabelContrastSepASPPHead',
        proj_cfg=_base_.proj_cfg,
        # 512x1024 crops: the loss at 64x128 (8192 pixels a view)
        loss_contrast=dict(_base_.loss_contrast, resize_size=(64, 128))),
    auxiliary_head=None)
# stage 1 does not train conv_seg: nothing to validate
val_dataloader = None
val_cfg = None
val_evaluator = None
