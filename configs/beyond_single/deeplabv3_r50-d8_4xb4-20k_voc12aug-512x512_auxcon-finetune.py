# Stage 2 on VOC aug: stock DeepLabV3-R50-D8 fine-tuned with cross-entropy
# from the stage-1 checkpoint (aux_proj.* dropped).
_base_ = ['../deeplabv3/deeplabv3_r50-d8_4xb4-20k_voc12aug-512x512.py']
load_from = ('work_dirs/deeplabv3-auxcon-pretrain_r50-d8_4xb4-20k_'
             'voc12aug-512x512/iter_20000.pth')
