# +pixel contrast over ../hrnet/fcn_hr18_4xb2-40k_cityscapes-512x1024.py: the decode head
# gains a projection and loss_contrast in training; inference is unchanged.
_base_ = ['../hrnet/fcn_hr18_4xb2-40k_cityscapes-512x1024.py', '../_base_/pixel_contrast/cityscapes.py']
model = dict(
    decode_head=dict(
        type='ContrastFCNHead',
        proj_cfg=_base_.proj_cfg,
        loss_contrast=_base_.loss_contrast))
