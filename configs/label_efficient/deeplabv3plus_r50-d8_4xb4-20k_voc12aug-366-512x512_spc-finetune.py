# Stage 2 of Zhao et al. on 366 labelled VOC images: the stock DeepLabV3+
# fine-tuned with CE on the same split as stage 1, from its checkpoint.
_base_ = [
    './deeplabv3plus_r50-d8_4xb4-20k_voc12aug-512x512_spc-finetune.py',
    '../_base_/datasets/voc12aug_split.py'
]
train_dataloader = dict(
    dataset=dict(
        _base_.voc12aug_split,
        _delete_=True,
        ann_file='splits/train_366.txt',
        pipeline=_base_.train_pipeline))
load_from = ('work_dirs/deeplabv3plus-spc-pretrain_r50-d8_4xb4-20k_'
             'voc12aug-366-512x512/iter_20000.pth')
