# CP2 quick tuning (the paper's 78.6 VOC mIoU setting, "820ep"): 20 CP2
# epochs from a MoCo v2 ResNet-50 (800 ep). The backbone is loaded from the
# checkpoint in any common layout (official MoCo v2 `module.encoder_q.*`,
# torchvision, mmpretrain); the ASPP head and projector start random.
_base_ = ['./cp2_r50-d16-aspp_8xb32-200e_in1k-224x224.py']
model = dict(backbone_checkpoint='checkpoints/moco_v2_800ep_pretrain.pth.tar')
max_epochs = 20
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_epochs, by_epoch=True, begin=0,
         end=max_epochs, convert_to_iter_based=False)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
default_hooks = dict(checkpoint=dict(interval=5))
