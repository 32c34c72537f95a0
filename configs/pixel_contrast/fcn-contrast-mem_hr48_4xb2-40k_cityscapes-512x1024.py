# HRNet-W48 + pixel contrast with the cross-image memory bank on Cityscapes:
# the official H_48_D_4_MEM.json (../_base_/pixel_contrast/cityscapes_mem.py).
# The projection reads the 720-channel concatenation of the four branches.
_base_ = ['../hrnet/fcn_hr48_4xb2-40k_cityscapes-512x1024.py', '../_base_/pixel_contrast/cityscapes_mem.py']
model = dict(
    decode_head=dict(
        type='ContrastFCNHead',
        proj_cfg=_base_.proj_cfg,
        loss_contrast=_base_.loss_contrast))
