# DeepLabV3-R50-D8 on PASCAL VOC with 1464 labelled images drawn from the 1464
# of VOC train (the low-label regime of the semi-supervised literature),
# labels from SegmentationClassAug. The stock VOC-aug train set is a
# ConcatDataset (VOC train + SBD aug); a split is one PascalVOCDataset over
# the listed stems. Write the split:
#   python tools/make_split.py configs/deeplabv3/deeplabv3_r50-d8_4xb4-20k_voc12aug-512x512.py --count 1464 --cfg-options train_dataloader.dataset.datasets.1.ann_file=ImageSets/Segmentation/train.txt
# (the cfg option makes the candidates VOC train only; without it they are
# the union of train and aug, each image once) -> splits/train_1464.txt
_base_ = [
    './deeplabv3_r50-d8_4xb4-20k_voc12aug-512x512.py',
    '../_base_/datasets/voc12aug_split.py'
]
train_dataloader = dict(
    dataset=dict(
        _base_.voc12aug_split,
        _delete_=True,
        ann_file='splits/train_1464.txt',
        pipeline=_base_.train_pipeline))
