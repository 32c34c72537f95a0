# HRNet + pixel contrast with the cross-image memory bank on Cityscapes,
# at the official code's size (5000 pixels + 5000 regions per class, 10
# pixels per image and class; H_48_D_4_MEM.json). contrast_with='memory'
# contrasts the anchors with the memory only, like the official code; 'both'
# adds the in-batch anchors. For the paper's size use pixel_size=29750,
# region_size=2975 (T = 10N, N) and consider dtype='float16'.
_base_ = ['./fcn-contrast_hr18_4xb2-40k_cityscapes-512x1024.py']
model = dict(
    decode_head=dict(
        loss_contrast=dict(
            contrast_with='memory',
            memory_bank=dict(
                type='CrossImageMemoryBank',
                num_classes=19,
                feat_dim=256,
                pixel_size=5000,
                region_size=5000,
                pixels_per_image=10))))
