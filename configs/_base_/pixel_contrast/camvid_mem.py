# Pixel contrast with the memory bank on CamVid: the official
# configs/camvid/H_48_D_4_MEM.json: tau 0.07, base tau 0.07, weight 0.1,
# 1024 anchors, <= 100 views, 3000 warm-up iterations, 5000 pixel + 5000
# region slots per class, 10 pixels per image and class, memory only.
_base_ = ['./camvid.py']
loss_contrast = dict(
    warmup_iters=3000,
    contrast_with='memory',
    memory_bank=dict(
        type='CrossImageMemoryBank',
        num_classes=11,
        feat_dim=256,
        pixel_size=5000,
        region_size=5000,
        pixels_per_image=10))
