# Fine-tune DeepLabV3-R50 (OS16) from CP2 on Cityscapes: the CP2 recipe
# (SGD lr 0.003, wd 0, poly, 40k, no aux head) on mmseg's Cityscapes
# pipeline (512x1024 crops, 4 x 2 images, whole-image test).
_base_ = [
    '../_base_/models/deeplabv3_r50-d16_cp2.py',
    'mmseg::_base_/datasets/cityscapes.py', 'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/cp2_finetune_40k.py'
]
custom_imports = dict(imports=['cp2_mmseg'], allow_failed_imports=False)
crop_size = (512, 1024)
model = dict(
    data_preprocessor=dict(size=crop_size), decode_head=dict(num_classes=19))
load_from = 'checkpoints/cp2_r50_converted.pth'
