# HRNet-W48 + pixel contrast over ../hrnet/fcn_hr48_4xb4-40k_pascal-context-59-480x480.py (the official
# README's headline numbers are W48): the projection reads the 720-channel
# concatenation of the four branches; values of ../_base_/pixel_contrast/pascal_context.py.
_base_ = ['../hrnet/fcn_hr48_4xb4-40k_pascal-context-59-480x480.py', '../_base_/pixel_contrast/pascal_context.py']
model = dict(
    decode_head=dict(
        type='ContrastFCNHead',
        proj_cfg=_base_.proj_cfg,
        loss_contrast=_base_.loss_contrast))
