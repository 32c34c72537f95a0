# OCRNet-HRNetV2-W18 on PASCAL-Context-59, not in mmseg: the stock OCR model
# with the data set, optimizer and sliding test of mmseg's
# fcn_hr18_4xb4-40k_pascal-context-59-480x480.
_base_ = [
    'mmseg::_base_/models/ocrnet_hr18.py',
    'mmseg::_base_/datasets/pascal_context_59.py',
    'mmseg::_base_/default_runtime.py', 'mmseg::_base_/schedules/schedule_40k.py'
]
custom_imports = dict(imports=['cp2_mmseg'], allow_failed_imports=False)
crop_size = (480, 480)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    # lists replace on merge: re-use the stock heads, change one field
    decode_head=[dict(h, num_classes=59) for h in _base_.model.decode_head],
    test_cfg=dict(mode='slide', crop_size=(480, 480), stride=(320, 320)))
optimizer = dict(type='SGD', lr=0.004, momentum=0.9, weight_decay=0.0001)
optim_wrapper = dict(type='OptimWrapper', optimizer=optimizer)
