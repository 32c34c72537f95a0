# HRNet-W48 + pixel contrast over ../hrnet/fcn_hr48_4xb2-40k_cityscapes-512x1024.py (the official
# README's headline numbers are W48): the projection reads the 720-channel
# concatenation of the four branches; values of ../_base_/pixel_contrast/cityscapes.py.
_base_ = ['../hrnet/fcn_hr48_4xb2-40k_cityscapes-512x1024.py', '../_base_/pixel_contrast/cityscapes.py']
model = dict(
    decode_head=dict(
        type='ContrastFCNHead',
        proj_cfg=_base_.proj_cfg,
        loss_contrast=_base_.loss_contrast))
