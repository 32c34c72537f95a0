# HRNet-W18 + pixel contrast with the cross-image memory bank on Cityscapes,
# the official H_48_D_4_MEM.json values (../_base_/pixel_contrast/
# cityscapes_mem.py: 5000 pixels + 5000 regions per class, memory only).
# For the paper's size use pixel_size=29750, region_size=2975 (T = 10N, N)
# and consider dtype='float16'; 'both' adds the in-batch anchors.
_base_ = ['../hrnet/fcn_hr18_4xb2-40k_cityscapes-512x1024.py', '../_base_/pixel_contrast/cityscapes_mem.py']
model = dict(
    decode_head=dict(
        type='ContrastFCNHead',
        proj_cfg=_base_.proj_cfg,
        loss_contrast=_base_.loss_contrast))
