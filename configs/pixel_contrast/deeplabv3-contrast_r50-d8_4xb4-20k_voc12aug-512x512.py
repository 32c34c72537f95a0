# +pixel contrast over ../deeplabv3/deeplabv3_r50-d8_4xb4-20k_voc12aug-512x512.py: the decode head
# gains a projection and loss_contrast in training; inference is unchanged.
_base_ = ['../deeplabv3/deeplabv3_r50-d8_4xb4-20k_voc12aug-512x512.py', '../_base_/pixel_contrast/voc.py']
model = dict(
    decode_head=dict(
        type='ContrastASPPHead',
        proj_cfg=_base_.proj_cfg,
        loss_contrast=_base_.loss_contrast))
