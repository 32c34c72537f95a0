# Stage 1 of Zhao et al. on 366 labelled VOC images (drawn from VOC train,
# SegmentationClassAug labels; the split as in
# configs/deeplabv3/deeplabv3_r50-d8_4xb4-20k_voc12aug-366-512x512.py).
# Stage 2: deeplabv3plus_r50-d8_4xb4-20k_voc12aug-366-512x512_spc-finetune.py
_base_ = [
    './deeplabv3plus-spc-pretrain_r50-d8_4xb4-20k_voc12aug-512x512.py',
    '../_base_/datasets/voc12aug_split.py'
]
train_dataloader = dict(
    dataset=dict(
        _base_.voc12aug_split,
        _delete_=True,
        ann_file='splits/train_366.txt',
        pipeline=_base_.train_pipeline))
