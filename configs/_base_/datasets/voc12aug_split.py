# A low-label split of PASCAL VOC as ONE PascalVOCDataset (the stock VOC-aug
# train set is a ConcatDataset of VOC train and SBD aug, which a split file
# cannot restrict): the stems of the split file (tools/make_split.py) with
# SegmentationClassAug labels. Use beside a VOC config:
#   _base_ = [VOC_CONFIG, '../_base_/datasets/voc12aug_split.py']
#   train_dataloader = dict(dataset=dict(
#       _base_.voc12aug_split, _delete_=True,
#       ann_file='splits/train_92.txt', pipeline=_base_.train_pipeline))
voc12aug_split = dict(
    type='PascalVOCDataset',
    data_root='data/VOCdevkit/VOC2012',
    data_prefix=dict(
        img_path='JPEGImages', seg_map_path='SegmentationClassAug'))
