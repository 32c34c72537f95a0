# Stage 2 of Zhao et al.: the stock DeepLabV3+ fine-tuned with CE from the
# stage-1 checkpoint (its projection head is ignored; conv_seg starts from
# its initialisation, as stage 1 never trains it).
_base_ = [
    'mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb2-40k_cityscapes-512x1024.py'
]
custom_imports = dict(imports=['cp2_mmseg'], allow_failed_imports=False)
load_from = ('work_dirs/deeplabv3plus-spc-pretrain_r50-d8_4xb2-40k_'
             'cityscapes-512x1024/iter_40000.pth')
