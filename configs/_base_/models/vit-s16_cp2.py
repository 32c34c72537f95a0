# ViT-S/16 as CP2 uses it (mmseg VisionTransformer: patch 16, 384-d, 12
# layers, the last layer's tokens as a stride-16 map, cls token dropped).
# num_heads is the checkpoint family's: 12 for MoCo v3, 6 for DINO / timm.
# Leaves use `dict(_base_.vit_s16, img_size=..., num_heads=...)`.
vit_s16 = dict(
    type='VisionTransformer',
    img_size=(224, 224),
    patch_size=16,
    in_channels=3,
    embed_dims=384,
    num_layers=12,
    num_heads=12,
    mlp_ratio=4,
    out_indices=(11, ),
    qkv_bias=True,
    drop_rate=0.0,
    attn_drop_rate=0.0,
    drop_path_rate=0.0,
    with_cls_token=True,
    output_cls_token=False,
    final_norm=True,
    norm_cfg=dict(type='LN', eps=1e-6),
    act_cfg=dict(type='GELU'),
    interpolate_mode='bicubic')
