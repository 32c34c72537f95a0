# Pixel contrast on COCO-Stuff: the official configs/coco_stuff/
# H_48_D_4.json: tau 0.07, base tau 0.07, weight 0.1, 1024 anchors,
# <= 100 views, 5000 warm-up iterations. (The official code trains on
# COCO-Stuff-10k; our baselines use mmseg's COCO-Stuff-164k.)
_base_ = ['./cityscapes.py']
loss_contrast = dict(temperature=0.07, base_temperature=0.07)
