# CamVid, 11 classes, SegNet release layout (see cp2_mmseg/datasets/camvid.py)
# 367 train / 101 val / 233 test images of 480x360 (W x H); void (11) -> 255.
dataset_type = 'CamVidDataset'
data_root = 'data/camvid'
crop_size = (360, 480)  # (h, w): the whole frame
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ValidateSegLabels', num_classes=11, ignore_index=255),
    dict(
        type='RandomResize',
        scale=(480, 360),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(480, 360), keep_ratio=True),
    # annotations after Resize: evaluation at the original resolution
    dict(type='LoadAnnotations'),
    dict(type='ValidateSegLabels', num_classes=11, ignore_index=255),
    dict(type='PackSegInputs')
]
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(
        type='TestTimeAug',
        transforms=[[
            dict(type='Resize', scale_factor=r, keep_ratio=True)
            for r in img_ratios
        ],
                    [
                        dict(type='RandomFlip', prob=0., direction='horizontal'),
                        dict(type='RandomFlip', prob=1., direction='horizontal')
                    ], [dict(type='LoadAnnotations')],
                    [
                        dict(
                            type='ValidateSegLabels',
                            num_classes=11,
                            ignore_index=255)
                    ], [dict(type='PackSegInputs')]])
]
# Split files are optional: ann_file='splits/train.txt' (one stem a line)
# restricts a split; '' lists the whole folder.
camvid_train = dict(
    type=dataset_type,
    data_root=data_root,
    data_prefix=dict(img_path='train', seg_map_path='trainannot'),
    ann_file='',
    pipeline=train_pipeline)
camvid_val = dict(
    type=dataset_type,
    data_root=data_root,
    data_prefix=dict(img_path='val', seg_map_path='valannot'),
    ann_file='',
    pipeline=train_pipeline)
# train + val (468 images) for the final model evaluated on test:
#   train_dataloader = dict(dataset=_base_.camvid_trainval)
camvid_trainval = dict(
    type='ConcatDataset', datasets=[camvid_train, camvid_val])
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=camvid_train)
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='val', seg_map_path='valannot'),
        ann_file='',
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='test', seg_map_path='testannot'),
        ann_file='',
        pipeline=test_pipeline))
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
