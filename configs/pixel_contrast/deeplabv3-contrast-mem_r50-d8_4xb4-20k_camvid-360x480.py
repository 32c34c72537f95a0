# + the cross-image memory bank (official code's size: 5000 pixels + 5000
# regions per class, 10 pixels per image and class) over deeplabv3-contrast_r50-d8_4xb4-20k_camvid-360x480.
_base_ = ['./deeplabv3-contrast_r50-d8_4xb4-20k_camvid-360x480.py']
model = dict(
    decode_head=dict(
        loss_contrast=dict(
            warmup_iters=3000,  # CamVid-MEM official
            contrast_with='memory',
            memory_bank=dict(
                type='CrossImageMemoryBank',
                num_classes=11,
                feat_dim=256,
                pixel_size=5000,
                region_size=5000,
                pixels_per_image=10))))
