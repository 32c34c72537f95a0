# Stage 2 of Zhao et al. on VOC aug: stock DeepLabV3+ from the stage-1
# checkpoint.
_base_ = [
    'mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb4-20k_voc12aug-512x512.py'
]
custom_imports = dict(imports=['cp2_mmseg'], allow_failed_imports=False)
load_from = ('work_dirs/deeplabv3plus-spc-pretrain_r50-d8_4xb4-20k_'
             'voc12aug-512x512/iter_20000.pth')
