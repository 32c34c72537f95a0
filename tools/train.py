# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Train a segmentor (or a CP2 self-supervisor) from a config.

Same flags and behaviour as mmsegmentation's ``tools/train.py``; also runs
distributed on CPU-only machines (gloo) through ``tools/dist_train.sh``.
"""
import argparse
import logging
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.device import get_device
from mmengine.logging import print_log
from mmengine.runner.checkpoint import find_latest_checkpoint

import cp2_mmseg  # noqa: F401  (registers our modules, safe checkpoints)
from cp2_mmseg.utils import (adapt_cfg_to_device, build_runner,
                             init_cpu_process_group, set_transform_options)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        action='store_true',
        default=False,
        help='resume from the latest checkpoint in the work_dir '
        'automatically')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file. If the value to '
        'be overwritten is a list, it should be like key="[a,b]" or key=a,b '
        'It also allows nested list/tuple values, e.g. key="[(a,b),(c,d)]" '
        'Note that the quotation marks are necessary and that no white space '
        'is allowed.')
    parser.add_argument(
        '--transform-options',
        nargs='+',
        action=DictAction,
        help='set an option of every data transform of a type, e.g. '
        'RandomResize.scale="(240,180)" LoadAuxLabel.aux_root=DIR (no '
        'pipeline indices; an option that matches no transform is an error)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank, torchrun sets LOCAL_RANK
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def resolve_resume(cfg: Config, resume: bool) -> None:
    """Make ``--resume`` mean the latest checkpoint in ``work_dir``.

    mmengine resumes from ``load_from`` whenever it is set together with
    ``resume=True``. A fine-tuning config sets ``load_from`` to its initial
    weights (a converted CP2 or pretraining checkpoint), so ``--resume``
    would restart from the initial weights (or fail on their missing
    ``meta``) instead of the interrupted run. Here ``--resume`` picks the
    latest checkpoint in ``work_dir``; with none there, training starts from
    ``load_from`` as initial weights. Without ``--resume`` the config's own
    ``resume`` / ``load_from`` are left as they are.

    Args:
        cfg (Config): The merged config, ``work_dir`` already set.
        resume (bool): Whether ``--resume`` was given.
    """
    if not resume:
        return
    latest = find_latest_checkpoint(cfg.work_dir)
    if latest is not None:
        if cfg.get('load_from'):
            print_log(
                f'--resume: resuming from {latest}, the latest checkpoint in '
                f'{cfg.work_dir}; load_from={cfg.load_from!r} (initial '
                'weights) is not used', logger='current')
        cfg.load_from = latest
        cfg.resume = True
    elif cfg.get('load_from'):
        print_log(
            f'--resume: no checkpoint in {cfg.work_dir} yet; starting from '
            f'load_from={cfg.load_from!r} as initial weights', logger='current')
        cfg.resume = False
    else:
        cfg.resume = True  # mmengine warns and trains from scratch


def main() -> None:
    args = parse_args()
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config!r} not found')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.transform_options is not None:
        set_transform_options(cfg, args.transform_options)

    # work_dir priority: CLI > config > ./work_dirs/<config name>
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

    if args.amp:
        optim_wrapper = cfg.optim_wrapper.type
        if optim_wrapper == 'AmpOptimWrapper':
            print_log(
                'AMP training is already enabled in your config.',
                logger='current',
                level=logging.WARNING)
        else:
            assert optim_wrapper == 'OptimWrapper', (
                '`--amp` is only supported when the optimizer wrapper type is '
                f'`OptimWrapper` but got {optim_wrapper}.')
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
    if cfg.optim_wrapper.get('type') == 'AmpOptimWrapper' and \
            get_device() == 'cpu':
        # mmengine's AmpOptimWrapper asserts on a CPU-only machine; say why
        raise SystemExit(
            'tools/train.py: mixed precision (--amp, or optim_wrapper.type='
            "'AmpOptimWrapper' in the config) needs a CUDA, NPU, MLU or MUSA "
            'device and this machine has none; train without --amp or set '
            "optim_wrapper.type='OptimWrapper'")

    resolve_resume(cfg, args.resume)
    adapt_cfg_to_device(cfg, args.launcher)
    init_cpu_process_group(cfg, args.launcher)

    runner = build_runner(cfg)
    runner.train()


if __name__ == '__main__':
    main()
