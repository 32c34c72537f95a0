# Stage 1 of Zhao et al. on 1/8 of Cityscapes (372 images; the split of
# tools/make_split.py configs/deeplabv3/deeplabv3_r50-d8_4xb2-40k_cityscapes-512x1024.py --fraction 1/8).
# Stage 2: deeplabv3plus_r50-d8_4xb2-40k_cityscapes-1-8-512x1024_spc-finetune.py
# fine-tunes on the same split.
_base_ = ['./deeplabv3plus-spc-pretrain_r50-d8_4xb2-40k_cityscapes-512x1024.py']
train_dataloader = dict(dataset=dict(ann_file='splits/train_1-8.txt'))
