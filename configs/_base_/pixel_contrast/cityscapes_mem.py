# Pixel contrast with the memory bank on Cityscapes: the official
# configs/cityscapes/H_48_D_4_MEM.json: tau 0.07, base tau 0.07, weight 1,
# 1024 anchors, max_views 1 (one anchor per (image, class), so with the
# official hard/easy split no hard anchor is ever taken), 5000 warm-up
# iterations, 5000 pixel + 5000 region slots per class, 10 pixels per image
# and class, contrast with the memory only.
_base_ = ['./cityscapes.py']
loss_contrast = dict(
    temperature=0.07,
    base_temperature=0.07,
    loss_weight=1.0,
    max_views=1,
    contrast_with='memory',
    memory_bank=dict(
        type='CrossImageMemoryBank',
        num_classes=19,
        feat_dim=256,
        pixel_size=5000,
        region_size=5000,
        pixels_per_image=10))
