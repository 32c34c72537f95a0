# Stage 2 on Cityscapes: stock DeepLabV3-R50-D8 fine-tuned with
# cross-entropy from the stage-1 checkpoint (aux_proj.* dropped). For a
# low-label regime set train_dataloader.dataset.ann_file to a split of
# tools/make_split.py.
_base_ = ['../deeplabv3/deeplabv3_r50-d8_4xb2-40k_cityscapes-512x1024.py']
load_from = ('work_dirs/deeplabv3-auxcon-pretrain_r50-d8_4xb2-40k_'
             'cityscapes-512x1024/iter_40000.pth')
