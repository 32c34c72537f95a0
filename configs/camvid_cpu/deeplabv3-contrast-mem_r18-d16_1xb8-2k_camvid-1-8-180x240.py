# The CPU CamVid protocol + pixel contrast with the cross-image memory bank,
# the official CamVid memory values (../_base_/pixel_contrast/camvid_mem.py)
# except the warm-up, scaled from 3000 to 300 for 2000 iterations (ours).
_base_ = [
    './deeplabv3_r18-d16_1xb8-2k_camvid-1-8-180x240.py',
    '../_base_/pixel_contrast/camvid_mem.py'
]
model = dict(
    decode_head=dict(
        type='ContrastASPPHead',
        proj_cfg=_base_.proj_cfg,
        loss_contrast=dict(_base_.loss_contrast, warmup_iters=300)))
