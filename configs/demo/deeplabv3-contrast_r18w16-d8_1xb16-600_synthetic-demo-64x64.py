# make demo, our method: the baseline + pixel contrast (Wang et al., ICCV
# 2021): ContrastASPPHead adds a projection head beside the classifier and
# the supervised pixel-to-pixel contrastive loss (in-batch, tau 0.1, weight
# 0.1). Nothing extra at test time. Scaled to this toy (ours): the
# embedding is 8x8 (64x64 at output stride 8), so an (image, class) pair
# is sampled from 3 pixels on (the official rule, more than 100, is for
# embeddings of ~10k pixels and would sample nothing here), at most 16
# anchors per pair, and the warm-up is 100 of the 600 iterations.
_base_ = [
    './deeplabv3_r18w16-d8_1xb16-600_synthetic-demo-64x64.py',
    '../_base_/pixel_contrast/cityscapes.py'
]
model = dict(
    decode_head=dict(
        type='ContrastASPPHead',
        proj_cfg=dict(_base_.proj_cfg, channels=64),
        loss_contrast=dict(_base_.loss_contrast, max_samples=1024,
                           max_views=16, min_pixels=2, warmup_iters=100)))
