# +pixel contrast over ../ocrnet/ocrnet_hr18_4xb2-40k_cityscapes-512x1024.py: the OCR stage
# gains a projection (on the concatenated HRNet features) and loss_contrast;
# the auxiliary FCN stage and inference are unchanged.
_base_ = ['../ocrnet/ocrnet_hr18_4xb2-40k_cityscapes-512x1024.py', '../_base_/pixel_contrast/cityscapes.py']
model = dict(decode_head=[
    _base_.model.decode_head[0],
    dict(
        _base_.model.decode_head[1],
        type='ContrastOCRHead',
        proj_cfg=_base_.proj_cfg,
        loss_contrast=_base_.loss_contrast)
])
