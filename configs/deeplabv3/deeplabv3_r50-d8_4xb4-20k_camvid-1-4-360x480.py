# DeepLabV3-R50-D8 on CamVid with 1/4 of the 367 training images (92),
# a low-label regime (docs/results.md's CPU rows use 1/8 and all).
# Write the split:
#   python tools/make_split.py configs/deeplabv3/deeplabv3_r50-d8_4xb4-20k_camvid-360x480.py --fraction 1/4
# (data/camvid/splits/train_1-4.txt, one stem a line; add --balanced to
# cover every class, --seed N for another draw: train_1-4_seedN.txt).
_base_ = ['./deeplabv3_r50-d8_4xb4-20k_camvid-360x480.py']
train_dataloader = dict(dataset=dict(ann_file='splits/train_1-4.txt'))
