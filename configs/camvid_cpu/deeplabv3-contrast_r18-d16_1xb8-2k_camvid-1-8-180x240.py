# The CPU CamVid protocol + pixel contrast (Wang et al.), in-batch, with the
# official CamVid values (../_base_/pixel_contrast/camvid.py) except the
# warm-up: 5000 of the official schedule would exceed these 2000
# iterations, so it is scaled to 500 (ours).
_base_ = [
    './deeplabv3_r18-d16_1xb8-2k_camvid-1-8-180x240.py',
    '../_base_/pixel_contrast/camvid.py'
]
model = dict(
    decode_head=dict(
        type='ContrastASPPHead',
        proj_cfg=_base_.proj_cfg,
        loss_contrast=dict(_base_.loss_contrast, warmup_iters=500)))
