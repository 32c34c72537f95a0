# CP2 pretraining from scratch on ImageNet-1k, as the official code: 200
# epochs, total batch 256 (8 GPUs x 32), SGD lr 0.015 momentum 0.9 wd 1e-4 on
# all parameters, cosine schedule stepped per epoch, no warm-up.
#   tools/dist_train.sh configs/cp2/cp2_r50-d16-aspp_8xb32-200e_in1k-224x224.py 8
# then tools/model_converters/cp2_to_mmseg.py to fine-tune.
_base_ = [
    '../_base_/models/cp2_r50-d16-aspp.py', '../_base_/datasets/cp2_imagenet.py',
    'mmseg::_base_/default_runtime.py'
]
custom_imports = dict(imports=['cp2_mmseg'], allow_failed_imports=False)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.015, momentum=0.9, weight_decay=1e-4))
max_epochs = 200
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_epochs, by_epoch=True, begin=0,
         end=max_epochs, convert_to_iter_based=False)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
val_dataloader = val_cfg = val_evaluator = None
test_dataloader = test_cfg = test_evaluator = None
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=True),
    checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=10,
                    max_keep_ckpts=3),
    visualization=dict(type='SegVisualizationHook', draw=False))
# lr 0.015 is for a total batch of 256; `--auto-scale-lr` style scaling:
auto_scale_lr = dict(base_batch_size=256, enable=False)
