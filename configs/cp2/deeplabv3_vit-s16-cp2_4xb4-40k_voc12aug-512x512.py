# Fine-tune ViT-S/16 + ASPP (DeepLabV3 head) from CP2 on PASCAL VOC 2012 +
# SBD aug (the paper's 79.5 mIoU setting). The backbone is mmseg's
# VisionTransformer (14x14 tokens at 224 in pretraining, 32x32 at 512: the
# converter resizes the position embedding), its last layer's tokens as a
# stride-16 map into the ASPP head, as in pretraining.
#   python tools/model_converters/cp2_to_mmseg.py CP2_VIT.pth checkpoints/cp2_vit-s16_converted.pth
#   tools/dist_train.sh configs/cp2/deeplabv3_vit-s16-cp2_4xb4-40k_voc12aug-512x512.py 4
# num_heads must be the pretraining checkpoint's: 12 for MoCo v3's ViT-S
# (default here), 6 for DINO's / timm's (--cfg-options
# model.backbone.num_heads=6); the converter checks it when the CP2
# checkpoint records its config.
# The paper does not give its ViT fine-tuning recipe: the optimiser below
# (AdamW lr 6e-5, wd 0.01, 1500 warm-up iterations, poly) is mmseg's ViT
# recipe, our choice; data, crop and the 40k schedule are the R50 protocol.
_base_ = [
    './deeplabv3_r50-d16-cp2_4xb4-40k_voc12aug-512x512.py',
    '../_base_/models/vit-s16_cp2.py'
]
model = dict(
    backbone=dict(
        _base_.vit_s16,
        _delete_=True,
        img_size=(512, 512),
        num_heads=12,
        drop_path_rate=0.1),
    decode_head=dict(in_channels=384, in_index=0))
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(
        custom_keys=dict(
            pos_embed=dict(decay_mult=0.), cls_token=dict(decay_mult=0.),
            norm=dict(decay_mult=0.))))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
         end=1500),
    dict(type='PolyLR', eta_min=0.0, power=1.0, begin=1500, end=40000,
         by_epoch=False)
]
load_from = 'checkpoints/cp2_vit-s16_converted.pth'
