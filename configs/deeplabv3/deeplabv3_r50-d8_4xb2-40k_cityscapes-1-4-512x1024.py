# DeepLabV3-R50-D8 on Cityscapes with 1/4 of the 2975 training images
# (the low-label regime of the semi-supervised literature). Write the split:
#   python tools/make_split.py configs/deeplabv3/deeplabv3_r50-d8_4xb2-40k_cityscapes-512x1024.py --fraction 1/4
# (data/cityscapes/splits/train_1-4.txt, lines 'city/stem'; add --balanced to
# cover every class). Stage-2 configs of the two-stage methods inherit this
# to fine-tune on the same split.
_base_ = ['./deeplabv3_r50-d8_4xb2-40k_cityscapes-512x1024.py']
train_dataloader = dict(dataset=dict(ann_file='splits/train_1-4.txt'))
