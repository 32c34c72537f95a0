# DeepLabV3 + pixel contrast with the cross-image memory bank on CamVid,
# with the official CamVid memory config's values (H_48_D_4_MEM.json,
# written for HRNet): see ../_base_/pixel_contrast/camvid_mem.py.
_base_ = ['../deeplabv3/deeplabv3_r50-d8_4xb4-20k_camvid-360x480.py', '../_base_/pixel_contrast/camvid_mem.py']
model = dict(
    decode_head=dict(
        type='ContrastASPPHead',
        proj_cfg=_base_.proj_cfg,
        loss_contrast=_base_.loss_contrast))
