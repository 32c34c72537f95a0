# +pixel contrast over ../deeplabv3/deeplabv3_r50-d8_4xb2-40k_cityscapes-512x1024.py: the decode head
# gains a projection and loss_contrast in training; inference is unchanged.
_base_ = ['../deeplabv3/deeplabv3_r50-d8_4xb2-40k_cityscapes-512x1024.py', '../_base_/pixel_contrast/cityscapes.py']
model = dict(
    decode_head=dict(
        type='ContrastASPPHead',
        proj_cfg=_base_.proj_cfg,
        loss_contrast=_base_.loss_contrast))
