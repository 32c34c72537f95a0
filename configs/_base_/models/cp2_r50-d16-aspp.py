# CP2 pretraining model: plain ResNet-50 (mmseg "V1b", 7x7 stem, torchvision
# key names), output stride 16 (strides 1,2,2,1; dilations 1,1,1,2 with
# contract_dilation), ASPP head, 512-128 projector; MoCo queue 65536,
# m = 0.999 (EMA momentum 0.001), T = 0.2, dense weight 0.2 (official).
# Plain BN, as the official code: each GPU normalises its own batch, and the
# key encoder's batch is shuffled across GPUs (shuffle BN) so that keys do
# not share batch statistics with their queries. SyncBN would make the
# statistics global and the shuffle a no-op (MoCo's information leak).
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='CP2',
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2),
        contract_dilation=True,
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        zero_init_residual=True),
    decode_head=dict(
        type='ASPPHead',
        in_channels=2048,
        in_index=3,
        channels=512,
        dilations=(1, 6, 12, 18),
        dropout_ratio=0.1,
        num_classes=21,  # conv_seg is unused in pretraining
        norm_cfg=norm_cfg,
        align_corners=False),
    proj_channels=512,
    feat_dim=128,
    queue_len=65536,
    momentum=0.001,
    temperature=0.2,
    dense_temperature=1.0,
    dense_weight=0.2,
    dense_softmax_over='query')
# the ASPP head's conv_seg is not used in pretraining (official: the same,
# with find_unused_parameters=True): DDP must not wait for its gradient
find_unused_parameters = True
