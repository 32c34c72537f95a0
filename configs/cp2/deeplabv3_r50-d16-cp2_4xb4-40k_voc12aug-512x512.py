# Fine-tune DeepLabV3-R50 (OS16) from CP2 on PASCAL VOC 2012 + SBD aug, the
# paper's protocol: 512x512 crops, SGD lr 0.003, momentum 0.9, weight decay
# 0, poly (power 0.9, min 1e-4), 40k iterations, no auxiliary head, 4 x 4
# images (the GPU count is not stated officially), single-scale test.
#   python tools/model_converters/cp2_to_mmseg.py CP2.pth checkpoints/cp2_r50_converted.pth
#   tools/dist_train.sh configs/cp2/deeplabv3_r50-d16-cp2_4xb4-40k_voc12aug-512x512.py 4
_base_ = [
    '../_base_/models/deeplabv3_r50-d16_cp2.py',
    'mmseg::_base_/datasets/pascal_voc12_aug.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/cp2_finetune_40k.py'
]
custom_imports = dict(imports=['cp2_mmseg'], allow_failed_imports=False)
crop_size = (512, 512)
model = dict(data_preprocessor=dict(size=crop_size))
load_from = 'checkpoints/cp2_r50_converted.pth'
