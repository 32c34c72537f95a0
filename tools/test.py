# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Test (evaluate) a segmentor checkpoint: prints aAcc, mIoU, mAcc and the
per-class IoU table. Same flags and behaviour as mmsegmentation's
``tools/test.py``; the checkpoint is loaded with torch's ``weights_only``
loader (mmengine's training state allow-listed) and must fit the model.
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction

import cp2_mmseg  # noqa: F401  (registers our modules, safe checkpoints)
from cp2_mmseg.utils import (adapt_cfg_to_device, build_runner,
                             init_cpu_process_group, load_checkpoint_checked,
                             set_transform_options)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='MMSeg test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='if specified, the evaluation metric results will be dumped '
        'into the directory as json')
    parser.add_argument(
        '--out',
        type=str,
        help='The directory to save output prediction for offline '
        'evaluation')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory where painted images will be saved (under '
        'SHOW_DIR/vis_data/vis_image, one per test image)')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file.')
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
    parser.add_argument(
        '--tta', action='store_true', help='Test time augmentation')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def trigger_visualization_hook(cfg: Config, args: argparse.Namespace):
    default_hooks = cfg.default_hooks
    if 'visualization' in default_hooks:
        visualization_hook = default_hooks['visualization']
        visualization_hook['draw'] = True
        # SegVisualizationHook draws every 50th image by default; a user
        # asking for --show/--show-dir wants them all (unless the config
        # sets an interval itself)
        visualization_hook.setdefault('interval', 1)
        if args.show:
            visualization_hook['show'] = True
            visualization_hook['wait_time'] = args.wait_time
        if args.show_dir:
            visualizer = cfg.visualizer
            visualizer['save_dir'] = args.show_dir
    else:
        raise RuntimeError(
            'VisualizationHook must be included in default_hooks. '
            'refer to usage "visualization=dict(type=\'VisualizationHook\')"')
    return cfg


def main() -> None:
    args = parse_args()
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config!r} not found')
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint!r} not found')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.transform_options is not None:
        set_transform_options(cfg, args.transform_options)

    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

    # The checkpoint is loaded below, checked against the model.
    cfg.load_from = None
    cfg.resume = False

    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)

    if args.tta:
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model

    if args.out is not None:
        cfg.test_evaluator['output_dir'] = args.out
        cfg.test_evaluator['keep_results'] = True

    adapt_cfg_to_device(cfg, args.launcher)
    init_cpu_process_group(cfg, args.launcher)
    runner = build_runner(cfg)
    model = runner.model.module if hasattr(runner.model,
                                           'module') else runner.model
    load_checkpoint_checked(model, args.checkpoint, logger=runner.logger)
    runner.test()


if __name__ == '__main__':
    main()
