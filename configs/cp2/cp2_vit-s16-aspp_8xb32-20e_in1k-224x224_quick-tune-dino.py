# CP2 quick tuning of ViT-S/16 (+ ASPP) from DINO's ViT-S/16
# (dino_deitsmall16_pretrain.pth, flat timm names, or a DINO training
# checkpoint: its `teacher` weights are used). DINO's (and timm's / DeiT's)
# ViT-S has 6 attention heads; MoCo v3's has 12 (see the -mocov3 config).
_base_ = ['./cp2_vit-s16-aspp_8xb32-20e_in1k-224x224_quick-tune-mocov3.py']
model = dict(
    backbone=dict(num_heads=6),
    backbone_checkpoint='checkpoints/dino_deitsmall16_pretrain.pth',
    backbone_checkpoint_family='dino')
