# Stage 2 of the auxiliary-label method on the CPU CamVid protocol: the CE
# config of the protocol, initialised from stage 1 (load_from; the
# projection aux_proj.* is reported as unexpected and dropped; conv_seg
# starts random). Same split, schedule and seed handling as the CE rows.
_base_ = ['../camvid_cpu/deeplabv3_r18-d16_1xb8-2k_camvid-1-8-180x240.py']
load_from = ('work_dirs/deeplabv3-auxcon-pretrain_r18-d16_1xb8-500iter_'
             'camvid-180x240/iter_500.pth')
