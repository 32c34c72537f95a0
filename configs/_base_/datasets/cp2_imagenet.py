# CP2 copy-paste pairs from ImageNet-1k train (labels unused): foreground =
# image i, backgrounds = two other images drawn uniformly; MoCo v2 views at
# 224. For a folder of your own images use
#   dataset=dict(type='mmpretrain.CustomDataset', data_root=..., with_label=False, ...)
data_root = 'data/imagenet/'
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    drop_last=True,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='CopyPasteDataset',
        dataset=dict(
            type='mmpretrain.ImageNet',
            data_root=data_root,
            split='train',
            pipeline=[dict(type='LoadImageFromFile')]),
        pipeline=[
            dict(type='CopyPaste', area_range=(0.5, 0.8),
                 aspect_range=(0.8, 1.25)),
            dict(type='PackCopyPasteInputs')
        ]))
