# FCN-HRNetV2-W18 on CamVid (11 classes), not in mmseg.
_base_ = [
    'mmseg::_base_/models/fcn_hr18.py', '../_base_/datasets/camvid.py',
    'mmseg::_base_/default_runtime.py', 'mmseg::_base_/schedules/schedule_20k.py'
]
custom_imports = dict(imports=['cp2_mmseg'], allow_failed_imports=False)
crop_size = (360, 480)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor, decode_head=dict(num_classes=11))
