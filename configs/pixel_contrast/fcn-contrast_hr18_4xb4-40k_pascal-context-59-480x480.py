# +pixel contrast over ../hrnet/fcn_hr18_4xb4-40k_pascal-context-59-480x480.py: the decode head
# gains a projection and loss_contrast in training; inference is unchanged.
_base_ = ['../hrnet/fcn_hr18_4xb4-40k_pascal-context-59-480x480.py', '../_base_/pixel_contrast/pascal_context.py']
model = dict(
    decode_head=dict(
        type='ContrastFCNHead',
        proj_cfg=_base_.proj_cfg,
        loss_contrast=_base_.loss_contrast))
