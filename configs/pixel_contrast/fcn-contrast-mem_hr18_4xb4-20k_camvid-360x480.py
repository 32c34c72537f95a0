# HRNet-W18 + pixel contrast with the cross-image memory bank on CamVid:
# the official configs/camvid/H_48_D_4_MEM.json values
# (../_base_/pixel_contrast/camvid_mem.py).
_base_ = ['../hrnet/fcn_hr18_4xb4-20k_camvid-360x480.py', '../_base_/pixel_contrast/camvid_mem.py']
model = dict(
    decode_head=dict(
        type='ContrastFCNHead',
        proj_cfg=_base_.proj_cfg,
        loss_contrast=_base_.loss_contrast))
