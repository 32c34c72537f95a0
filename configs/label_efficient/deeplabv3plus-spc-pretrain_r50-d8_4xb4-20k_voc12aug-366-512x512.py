# Stage 1 of Zhao et al. on 366 labelled VOC images (drawn from VOC train,
# SegmentationClassAug labels; the split as in
# configs/deeplabv3/deeplabv3_r50-d8_4xb4-20k_voc12aug-366-512x512.py).
# Stage 2: deeplabv3plus_r50-d8_4xb4-20k_voc12aug-366-512x512_spc-finetune.py
_base_ = ['./deeplabv3plus-spc-pretrain_r50-d8_4xb4-20k_voc12aug-512x512.py']
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='PascalVOCDataset',
        data_root=_base_.data_root,
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClassAug'),
        ann_file='splits/train_366.txt',
        pipeline=_base_.train_pipeline))
