# The CPU CamVid protocol + pixel contrast with the cross-image memory bank,
# the official CamVid memory values (../_base_/pixel_contrast/camvid_mem.py)
# except three that are scaled to this protocol (ours):
# * the warm-up: 3000 of the official schedule would exceed these 2000
#   iterations, so it is 300;
# * which (image, class) pairs give anchors: officially those with more
#   than 100 (= max_views) pixels in the embedding, ~0.9 % of a ~90x120
#   embedding; ours is 12x15 = 180 pixels, where the same share is ~2
#   pixels: min_pixels=2;
# * the memory size: the paper's rule, 10 N pixel and N region slots per
#   class for N labelled training images, with N = 46 (the 1/8 split).
#   The official code's 5000 / 5000 would hold region embeddings of the
#   last ~110 passes over 46 images, and cost ~4 s per iteration on one
#   CPU core (measured) against ~1.4 s without the memory term. For other
#   splits set memory_bank.pixel_size / region_size (the CamVid matrix,
#   tools/benchmark/camvid_cpu_matrix.py, does for all 367 images).
_base_ = [
    './deeplabv3_r18-d16_1xb8-2k_camvid-1-8-180x240.py',
    '../_base_/pixel_contrast/camvid_mem.py'
]
model = dict(
    decode_head=dict(
        type='ContrastASPPHead',
        proj_cfg=_base_.proj_cfg,
        loss_contrast=dict(
            _base_.loss_contrast,
            warmup_iters=300,
            min_pixels=2,
            memory_bank=dict(
                _base_.loss_contrast.memory_bank,
                pixel_size=460,
                region_size=46))))
