# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Score auxiliary labels against the ground truth in seconds, no training.

    python tools/eval_aux_labels.py CONFIG AUX_DIR [--split train|val|test]
        [--num-aux K] [--stride 8] [--img-suffix SUFFIX] [--out scores.json]
        [--cfg-options ...]

CONFIG is a segmentation config whose data set (the split's dataloader)
gives the images and ground truth; AUX_DIR holds one ``<stem>.png`` per
image (``tools/generate_aux_labels.py`` writes them, with a
``meta.json`` that gives K when ``--num-aux`` is omitted). Prints the
pair-based scores of :class:`AuxLabelQualityMetric` (headline ``q``), the
time taken, and writes them as JSON.
"""
import argparse
import json
import os.path as osp
import sys
import time

from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.utils import ProgressBar

import cp2_mmseg  # noqa: F401
from cp2_mmseg.aux_labels import split_dataset_cfg


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config', help='segmentation config (data set)')
    parser.add_argument('aux_dir', help='folder of auxiliary label PNGs')
    parser.add_argument('--split', default='train',
                        choices=['train', 'val', 'test'])
    parser.add_argument('--num-aux', type=int, default=None,
                        help='K (default: meta.json in aux_dir)')
    parser.add_argument('--stride', type=int, default=1,
                        help='count every stride-th pixel (8: the loss '
                        'resolution of stride-8 embeddings)')
    parser.add_argument('--img-suffix', default=None,
                        help="suffix stripped from image names, e.g. "
                        "'_leftImg8bit.png' for Cityscapes")
    parser.add_argument('--out', default=None, help='JSON file to write')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if not osp.isdir(args.aux_dir):
        sys.exit(f'error: auxiliary label folder {args.aux_dir!r} not found')
    num_aux = args.num_aux
    meta_path = osp.join(args.aux_dir, 'meta.json')
    if num_aux is None:
        if not osp.isfile(meta_path):
            sys.exit(f'error: give --num-aux or put a meta.json with "k" in '
                     f'{args.aux_dir}')
        with open(meta_path) as f:
            num_aux = int(json.load(f)['k'])
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    from mmseg.registry import DATASETS, METRICS
    try:
        ds_cfg = split_dataset_cfg(cfg, args.split)
    except KeyError as e:
        sys.exit(f'error: {e.args[0]}')
    ds_cfg['pipeline'] = [
        dict(type='LoadAnnotations'),
        dict(type='LoadAuxLabel', aux_root=args.aux_dir, num_aux=num_aux,
             img_suffix=args.img_suffix)
    ]
    dataset = DATASETS.build(ds_cfg)
    metric = METRICS.build(
        dict(type='AuxLabelQualityMetric', num_aux=num_aux,
             stride=args.stride))
    metric.dataset_meta = dataset.metainfo
    start = time.perf_counter()
    bar = ProgressBar(len(dataset))
    for i in range(len(dataset)):
        item = dataset[i]
        metric.process(None, [dict(gt_sem_seg=item['gt_seg_map'],
                                   gt_aux_label=item['gt_aux_label'],
                                   aux_label_path=item['aux_label_path'])])
        bar.update()
    scores = metric.evaluate(len(dataset))
    secs = time.perf_counter() - start
    print(f'\n{len(dataset)} images ({args.split}), K = {num_aux}, stride '
          f'{args.stride}: {secs:.1f} s')
    width = max(len(k) for k in scores)
    for k, v in scores.items():
        print(f'  {k:<{width}}  {v:.4f}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(config=args.config, aux_dir=args.aux_dir,
                           split=args.split, num_aux=num_aux,
                           stride=args.stride, images=len(dataset),
                           seconds=secs, scores=scores), f, indent=1)
        print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
