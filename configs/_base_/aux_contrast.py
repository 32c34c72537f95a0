# Auxiliary-label pixel contrast ("Looking beyond single images", Zhang et
# al., NeurIPS 2021), our formulation (docs/beyond_single.md). The paper's
# body is not available: every value below is ours and a knob.
# - AuxContrastEncoderDecoder: decode-head features (before conv_seg) ->
#   ProjectionHead (aux_proj) -> AuxPixelContrastLoss; with_ce adds the
#   stock decode loss (the joint mode).
# - Two views per image (TwoViews); each pixel carries its auxiliary label
#   and its source coordinates (LoadAuxLabel, AddSourceCoords), moved by
#   mmseg's Resize / RandomCrop / RandomFlip through seg_fields.
# aux_root: the folder tools/generate_aux_labels.py wrote; set it with
#   tools/train.py CONFIG --transform-options LoadAuxLabel.aux_root=DIR
#   LoadAuxLabel.num_aux=K
aux_proj_cfg = dict(channels=256, proj_type='convmlp')
loss_aux_contrast = dict(
    type='AuxPixelContrastLoss',
    temperature=0.07,  # Zhao et al.'s; the paper's is unknown
    max_anchors=1024,  # anchors per process, ours
    view_positives=True,  # the paper's cross-view positives
    match_ratio=0.5,  # same cell of the coarser view's grid
    anchor_chunk=512)
aux_model = dict(
    type='AuxContrastEncoderDecoder',
    data_preprocessor=dict(type='AuxViewDataPreProcessor'),
    proj_cfg=aux_proj_cfg,
    loss_aux_contrast=loss_aux_contrast)
