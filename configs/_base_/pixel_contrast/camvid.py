# Pixel contrast on CamVid: the official configs/camvid/H_48_D_4.json:
# tau 0.07, base tau 0.07, weight 0.1, 1024 anchors, <= 100 views, 5000
# warm-up iterations.
_base_ = ['./cityscapes.py']
loss_contrast = dict(temperature=0.07, base_temperature=0.07)
