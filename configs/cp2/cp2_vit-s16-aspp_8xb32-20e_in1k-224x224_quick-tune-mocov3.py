# CP2 quick tuning of ViT-S/16 (+ ASPP), the paper's 79.5 VOC mIoU setting
# ("320ep": a 300-epoch ViT-S + 20 CP2 epochs), from MoCo v3's ViT-S
# (vit-s-300ep.pth.tar of facebookresearch/moco-v3: `module.base_encoder.*`,
# arch 'vit_small'). MoCo v3's ViT-S has **12** attention heads (DINO's and
# timm's have 6): shapes are the same, so the head count is set by the
# checkpoint family and checked when the weights load. For a DINO ViT-S use
# ./cp2_vit-s16-aspp_8xb32-20e_in1k-224x224_quick-tune-dino.py.
# The official repository ships no ViT config: the backbone follows its
# vendored ViT (patch 16, 14x14 tokens at 224, cls token dropped); the
# optimiser is an unverified choice (the official --optim adamw: AdamW,
# wd 0.01). Convert with tools/model_converters/cp2_to_mmseg.py (it detects
# the ViT and checks against the ViT fine-tuning config), then fine-tune
# with ./deeplabv3_vit-s16-cp2_4xb4-40k_voc12aug-512x512.py.
_base_ = [
    './cp2_r50-d16-aspp_8xb32-20e_in1k-224x224_quick-tune.py',
    '../_base_/models/vit-s16_cp2.py'
]
model = dict(
    backbone=dict(
        _base_.vit_s16,
        _delete_=True,
        num_heads=12),
    decode_head=dict(in_channels=384, in_index=0),
    backbone_checkpoint='checkpoints/vit-s-300ep.pth.tar',
    backbone_checkpoint_family='mocov3')
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1.5e-4, weight_decay=0.01))
