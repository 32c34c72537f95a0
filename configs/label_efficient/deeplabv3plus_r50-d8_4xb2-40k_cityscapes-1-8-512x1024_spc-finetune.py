# Stage 2 of Zhao et al. on 1/8 of Cityscapes: the stock DeepLabV3+ fine-tuned
# with CE on the same split as stage 1, from its checkpoint.
_base_ = ['./deeplabv3plus_r50-d8_4xb2-40k_cityscapes-512x1024_spc-finetune.py']
train_dataloader = dict(dataset=dict(ann_file='splits/train_1-8.txt'))
load_from = ('work_dirs/deeplabv3plus-spc-pretrain_r50-d8_4xb2-40k_'
             'cityscapes-1-8-512x1024/iter_40000.pth')
