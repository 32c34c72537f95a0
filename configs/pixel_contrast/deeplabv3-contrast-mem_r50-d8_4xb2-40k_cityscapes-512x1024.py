# DeepLabV3 + pixel contrast with the cross-image memory bank on Cityscapes,
# with the official memory config's values (H_48_D_4_MEM.json, written for
# HRNet; the official code has no DeepLabV3 memory config): see
# ../_base_/pixel_contrast/cityscapes_mem.py.
_base_ = ['../deeplabv3/deeplabv3_r50-d8_4xb2-40k_cityscapes-512x1024.py', '../_base_/pixel_contrast/cityscapes_mem.py']
model = dict(
    decode_head=dict(
        type='ContrastASPPHead',
        proj_cfg=_base_.proj_cfg,
        loss_contrast=_base_.loss_contrast))
