# The CPU CamVid experiment (docs/results.md), for
#   python tools/benchmark/run_matrix.py tools/benchmark/camvid_cpu_matrix.py
# Protocol: configs/camvid_cpu/deeplabv3_r18-d16_1xb8-2k_camvid-1-8-180x240.py
# (DeepLabV3 R18 OS16, random init, 240x180, batch 8, SGD 0.01 poly), test
# mIoU on the 233 test images. Splits: tools/make_split.py (uniform, seed 0;
# 'full' = all 367). Every row's commands are in its result.json.
work_root = 'work_dirs/camvid_cpu'
results_dir = 'docs/results/camvid_cpu'  # committed: one JSON per row
# the Δ columns of results.md: CE at the same fine-tuning iterations, and
# CE with 1000 more (the total-compute match, see the note on 'ce' 3000)
baseline = [dict(method='ce', iters=2000), dict(method='ce', iters=3000)]
variables = dict(
    data_root='data/camvid',
    ce_cfg='configs/camvid_cpu/deeplabv3_r18-d16_1xb8-2k_camvid-1-8-180x240.py',
    pc_cfg='configs/camvid_cpu/deeplabv3-contrast_r18-d16_1xb8-2k_camvid-1-8-'
    '180x240.py',
    pc_mem_cfg='configs/camvid_cpu/deeplabv3-contrast-mem_r18-d16_1xb8-2k_'
    'camvid-1-8-180x240.py',
    aux_pre_cfg='configs/beyond_single/deeplabv3-auxcon-pretrain_r18-d16_'
    '1xb8-500iter_camvid-180x240.py',
    aux_ft_cfg='configs/beyond_single/deeplabv3_r18-d16_1xb8-2k_camvid-1-8-'
    '180x240_auxcon-finetune.py',
    spc_pre_cfg='configs/label_efficient/deeplabv3-spc-pretrain_r18-d16_'
    '1xb8-300iter_camvid-1-8-360x480.py',
    cp2_pre_cfg='configs/cp2/cp2_r18-d16-aspp_1xb16-300iter_camvid-imgs-'
    '96x96.py')
# split files under work_root/splits (written by the 'split' stage)
splits = {
    '1-8': '{work_root_abs}/splits/train_1-8.txt',
    '1-4': '{work_root_abs}/splits/train_1-4.txt',
    '1-2': '{work_root_abs}/splits/train_1-2.txt',
    'full': '',
}
_frac = {'1-8': '1/8', '1-4': '1/4', '1-2': '1/2'}


def _split_stage():
    return dict(
        name='split', dir='splits/{fraction}',
        cmd=['bash', '-c', 'test -z "{split}" || {py} tools/make_split.py '
             '{ce_cfg} --fraction $(echo {fraction} | tr - /) --out {split} '
             '--cfg-options train_dataloader.dataset.ann_file= '
             'train_dataloader.dataset.data_root={data_root} > /dev/null'])


def _ce_train(cfg='{ce_cfg}', extra=()):
    return dict(
        name='train', resumable=True,
        cmd=['{py}', 'tools/train.py', cfg, '--work-dir', '{stage_dir}',
             '--cfg-options', 'train_dataloader.dataset.ann_file={split}',
             'train_cfg.max_iters={iters}', 'param_scheduler.0.end={iters}',
             'default_hooks.checkpoint.interval=500',
             'randomness.seed={seed}', *extra])


def _test(cfg='{ce_cfg}', train='train', extra=()):
    return dict(
        name='test', test=True, curve_from=train,
        cmd=['{py}', 'tools/test.py', cfg,
             '{' + train + '_dir}/iter_{iters}.pth', '--work-dir',
             '{stage_dir}'] + (['--cfg-options', *extra] if extra else []))


def _aux_pretrain(aux_setting, name='pretrain', labels='auxgen', dir=None):
    """Stage 1: the auxiliary-label contrast alone on all training images,
    with the labels of the stage named ``labels``."""
    stage = dict(
        name=name, resumable=True,
        cmd=['{py}', 'tools/train.py', '{aux_pre_cfg}', '--work-dir',
             '{stage_dir}', '--cfg-options', 'randomness.seed={seed}',
             'train_dataloader.dataset.ann_file=', '--transform-options',
             'LoadAuxLabel.aux_root={' + labels + '_dir}/' + aux_setting,
             'LoadAuxLabel.num_aux=' + aux_setting.split('_')[0][1:]])
    if dir:
        stage['dir'] = dir
    return stage


def _aux_method(extractor_stages, aux_setting):
    """Extractor -> auxiliary labels (a K / outlier grid, one extraction)
    -> stage-1 pretraining -> fine-tuning like CE -> test."""
    return extractor_stages + [
        _aux_pretrain(aux_setting),
        _ce_train('{aux_ft_cfg}',
                  ['load_from={pretrain_dir}/iter_500.pth']),
        _test('{aux_ft_cfg}'),
    ]


def _auxgen(folder, cfg, ckpt, mode='feat', name='auxgen'):
    return dict(
        name=name, dir='aux_labels/' + folder,
        cmd=['{py}', 'tools/generate_aux_labels.py', '{ce_cfg}', cfg,
             '{stage_dir}', '--checkpoint', ckpt, '--mode', mode,
             '--input-scale', '0.5', '--k', '16', '32', '--outlier-ratio',
             '0', '0.05', '--splits', 'train', 'val', '--cfg-options',
             'train_dataloader.dataset.ann_file=',
             'train_dataloader.dataset.data_root={data_root}',
             'val_dataloader.dataset.data_root={data_root}'])


# the CE model of the same split and seed (the CE row's own train stage)
_ce_extractor = dict(_ce_train(), name='extractor',
                     dir='ce_{fraction}_2000_s{seed}/train')
_ce_extractor['cmd'] = [
    a.replace('{iters}', '2000') for a in _ce_extractor['cmd']]
_cp2_pretrain = dict(
    name='extractor', dir='shared/cp2_pretrain_300_s{seed}',
    resumable=True,
    cmd=['{py}', 'tools/train.py', '{cp2_pre_cfg}', '--work-dir',
         '{stage_dir}', '--cfg-options', 'randomness.seed={seed}',
         'train_dataloader.dataset.dataset.data_root={data_root}'])
_MEM_SIZE = ('model.decode_head.loss_contrast.memory_bank.pixel_size='
             '{mem_pixels}',
             'model.decode_head.loss_contrast.memory_bank.region_size='
             '{mem_regions}')
methods = dict(
    # cross-entropy from random init
    ce=[_split_stage(), _ce_train(), _test()],
    # CE + pixel contrast (Wang et al.), in-batch / with the memory bank
    contrast=[_split_stage(), _ce_train('{pc_cfg}'), _test('{pc_cfg}')],
    # (memory sized by the paper's rule for the split: 10 N pixel and N
    # region slots per class, N labelled images: the rows' mem_* keys)
    contrast_mem=[
        _split_stage(),
        _ce_train('{pc_mem_cfg}', _MEM_SIZE),
        _test('{pc_mem_cfg}', extra=_MEM_SIZE)
    ],
    # CP2 on the 367 training images (labels unused) -> convert -> CE
    cp2=[
        _split_stage(), _cp2_pretrain,
        dict(name='convert', cmd=[
            '{py}', 'tools/model_converters/cp2_to_mmseg.py',
            '{extractor_dir}/iter_300.pth', '{stage_dir}/converted.pth',
            '--config', '{ce_cfg}']),
        _ce_train(extra=['load_from={convert_dir}/converted.pth']),
        _test()
    ],
    # label-efficient stage 1 (labels through the contrast only) -> CE
    spc=[
        _split_stage(),
        dict(name='pretrain', resumable=True, cmd=[
            '{py}', 'tools/train.py', '{spc_pre_cfg}', '--work-dir',
            '{stage_dir}', '--cfg-options',
            'train_dataloader.dataset.ann_file={split}',
            'randomness.seed={seed}',
            'model.data_preprocessor.size=(180,240)', '--transform-options',
            'RandomResize.scale=(240,180)',
            'RandomCrop.crop_size=(180,240)']),
        _ce_train(extra=['load_from={pretrain_dir}/iter_300.pth']),
        _test()
    ],
    # auxiliary labels from the CE model of the split (feat, K 32, 5 %)
    auxcon_ce_k32=_aux_method(
        [_split_stage(), _ce_extractor,
         _auxgen('ce_{fraction}_s{seed}', '{ce_cfg}',
                 '{extractor_dir}/iter_2000.pth')],
        'k32_o0.05'),
    # auxiliary labels from the stage-1 model of auxcon_ce_k32 (a model
    # trained with the auxiliary-label contrast only: feat, K 32, 5 %)
    # (its extractor is that row's stage 1, built here from nothing when
    # this machine does not have it: CE extractor -> labels -> stage 1)
    auxcon_auxpre_k32=_aux_method(
        [_split_stage(),
         dict(_ce_extractor, name='ce_extractor'),
         _auxgen('ce_{fraction}_s{seed}', '{ce_cfg}',
                 '{ce_extractor_dir}/iter_2000.pth', name='ce_auxgen'),
         _aux_pretrain('k32_o0.05', name='extractor', labels='ce_auxgen',
                       dir='auxcon_ce_k32_{fraction}_2000_s{seed}/pretrain'),
         _auxgen('auxpre_{fraction}_s{seed}', '{aux_pre_cfg}',
                 '{extractor_dir}/iter_500.pth')],
        'k32_o0.05'),
    # auxiliary labels from CP2 on the CamVid images (feat, K 32, 5 %)
    auxcon_cp2_k32=_aux_method(
        [_split_stage(), _cp2_pretrain,
         _auxgen('cp2_300_s{seed}', '{cp2_pre_cfg}',
                 '{extractor_dir}/iter_300.pth')],
        'k32_o0.05'),
)
_row = dict(model='deeplabv3_r18-d16', input='180x240')
# 'ce' at 3000 iterations: the same-total-compute baseline of the two-stage
# rows (cp2 / spc: 300 + 2000, auxcon_cp2: 300 + 500 + 2000; auxcon_ce
# also needs its 2000-iteration CE extractor, 4500 in all: see
# docs/results.md)
_one_eighth = (('ce', 2000), ('auxcon_ce_k32', 2000),
               ('auxcon_auxpre_k32', 2000), ('auxcon_cp2_k32', 2000),
               ('cp2', 2000), ('spc', 2000), ('contrast', 2000),
               ('contrast_mem', 2000), ('ce', 3000))
_full = (('ce', 2000), ('contrast', 2000), ('contrast_mem', 2000),
         ('spc', 2000), ('cp2', 2000), ('auxcon_ce_k32', 2000), ('ce', 3000))
# seed-major within each fraction, so a partial run still covers every
# method once: 1/8 labels first (all seeds), then all labels
_images = {'1-8': 46, 'full': 367}  # labelled training images
rows = [
    dict(_row, method=m, fraction=frac, iters=it, seed=s,
         **(dict(mem_pixels=10 * _images[frac], mem_regions=_images[frac])
            if m == 'contrast_mem' else {}))
    for frac, methods_ in (('1-8', _one_eighth), ('full', _full))
    for s in (0, 1, 2) for m, it in methods_
]
