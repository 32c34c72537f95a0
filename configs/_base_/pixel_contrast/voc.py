# Pixel contrast on PASCAL VOC: the official code has no VOC config. OURS:
# the Cityscapes values (tau 0.1, the paper's stated tau and the best of the
# official README's temperature study), base tau 0.07, weight 0.1, 1024
# anchors, <= 100 views, 5000 warm-up iterations.
_base_ = ['./cityscapes.py']
