# FCN-HRNetV2-W18 on COCO-Stuff-164k (171 classes), not in mmseg: a delta
# over the stock model, data set, schedule and runtime.
_base_ = [
    'mmseg::_base_/models/fcn_hr18.py', 'mmseg::_base_/datasets/coco-stuff164k.py',
    'mmseg::_base_/default_runtime.py', 'mmseg::_base_/schedules/schedule_80k.py'
]
custom_imports = dict(imports=['cp2_mmseg'], allow_failed_imports=False)
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor, decode_head=dict(num_classes=171))
