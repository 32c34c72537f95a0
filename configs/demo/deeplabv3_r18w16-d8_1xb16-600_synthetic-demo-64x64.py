# make demo, baseline: DeepLabV3 with a quarter-width ResNet-18 (16 base channels) (random init,
# nothing downloaded), cross-entropy only, 600 iterations on the CPU, on the
# easy synthetic set (grey textures, one colour family per shape class:
# tools/dataset_converters/make_synthetic_shapes.py --class-colours).
_base_ = ['./deeplabv3_r18-d8_1xb8-300_synthetic-64x64.py']
data_root = 'data/synthetic_demo'
model = dict(
    backbone=dict(stem_channels=16, base_channels=16),
    decode_head=dict(in_channels=128, channels=64),
    auxiliary_head=dict(in_channels=64))
train_dataloader = dict(batch_size=16, dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=600,
         by_epoch=False)
]
train_cfg = dict(max_iters=600, val_interval=600)
default_hooks = dict(checkpoint=dict(interval=600))
