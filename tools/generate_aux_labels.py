# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Auxiliary labels for every image of a data set from a feature extractor
("Looking beyond single images", Zhang et al., NeurIPS 2021).

    python tools/generate_aux_labels.py DATA_CONFIG EXTRACTOR_CONFIG OUT_DIR
        [--checkpoint CKPT] [--mode feat|pred|backbone|embed] [--layer -1]
        [--k K [K ...]] [--outlier-ratio 0.05 [R ...]]
        [--outlier-scope global|per_cluster]
        [--splits train val] [--samples-per-image 256] [--label-stride 4]
        [--seed 0] [--no-gt] [--img-suffix SUFFIX] [--cfg-options ...]
        [--dbscan-eps EPS [EPS ...] [--dbscan-min-samples 10]
         [--dbscan-samples 20000]] [--launcher none|pytorch|slurm|mpi]

    # several processes (each takes a block of the images; same labels):
    torchrun --nproc_per_node 2 tools/generate_aux_labels.py ... \
        --launcher pytorch

DATA_CONFIG gives the images (its ``<split>_dataloader`` data sets, all
listed splits clustered together); EXTRACTOR_CONFIG + CKPT the frozen
model: an mmseg segmentor (e.g. trained on the few labelled images),
our CP2 or label-efficient checkpoints, or an mmpretrain MoCo v2 /
classification model (``--mode backbone``). Writes ``OUT_DIR/<stem>.png``
per image, ``meta.json``, ``centroids.npy`` and ``preview.png``. Several
``--k`` / ``--outlier-ratio`` values write one folder per setting,
``OUT_DIR/k<K>_o<share>/``, from one feature extraction. ``--dbscan-eps``
adds DBSCAN settings (the paper's ablation; K is what DBSCAN finds, its
noise is ignore), ``OUT_DIR/dbscan_e<eps>_m<min>/``. Score the result with
``tools/eval_aux_labels.py`` or ``tools/benchmark/aux_metric_table.py``.
"""
import argparse
import os.path as osp
import sys
import time

import torch
from mmengine.config import Config, DictAction
from mmengine.dist import get_rank
from mmengine.registry import init_default_scope

import cp2_mmseg  # noqa: F401
from cp2_mmseg.aux_labels import (FeatureExtractor, generate_aux_label_sets,
                                  split_dataset_cfg)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('data_config')
    parser.add_argument('extractor_config')
    parser.add_argument('out_dir')
    parser.add_argument('--checkpoint', default=None)
    parser.add_argument('--mode', default='feat',
                        choices=['feat', 'pred', 'backbone', 'embed'])
    parser.add_argument('--layer', type=int, default=-1)
    parser.add_argument('--input-scale', type=float, default=1.0,
                        help='resize images by this factor before the '
                        'extractor (its training scale); labels keep the '
                        'image size')
    parser.add_argument('--k', type=int, nargs='+', default=None,
                        help='clusters (default: the data set classes); '
                        'several values: one folder per setting')
    parser.add_argument('--outlier-ratio', type=float, nargs='+',
                        default=[0.05],
                        help='shares of pixels marked ignore; several '
                        'values: one folder per setting')
    parser.add_argument('--outlier-scope', default='global',
                        choices=['global', 'per_cluster'])
    parser.add_argument('--splits', nargs='+', default=['train'])
    parser.add_argument('--samples-per-image', type=int, default=256)
    parser.add_argument('--label-stride', type=int, default=4)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--n-init', type=int, default=3)
    parser.add_argument('--no-gt', action='store_true',
                        help='unlabelled images: do not load annotations')
    parser.add_argument('--img-suffix', default=None)
    parser.add_argument('--dbscan-eps', type=float, nargs='+', default=[],
                        help='DBSCAN radii (L2-normalised features), one '
                        'setting each: the clustering ablation')
    parser.add_argument('--dbscan-min-samples', type=int, default=10)
    parser.add_argument('--dbscan-samples', type=int, default=20000,
                        help='points of the fit sample DBSCAN clusters')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides of DATA_CONFIG')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    return parser.parse_args()


def build_images(cfg: Config, splits, with_gt: bool):
    from mmengine.dataset import ConcatDataset
    from mmseg.registry import DATASETS
    sets = []
    for split in splits:
        try:
            ds = split_dataset_cfg(cfg, split)
        except KeyError as e:
            sys.exit(f'error: {e.args[0]}')
        ds['pipeline'] = [dict(type='LoadImageFromFile')] + (
            [dict(type='LoadAnnotations')] if with_gt else [])
        sets.append(DATASETS.build(ds))
    return sets[0] if len(sets) == 1 else ConcatDataset(sets)


def main() -> None:
    args = parse_args()
    if args.launcher != 'none':
        from mmengine.dist import init_dist
        from cp2_mmseg.utils import init_cpu_process_group
        init_cpu_process_group(Config(), args.launcher)  # gloo without GPU
        if torch.cuda.is_available() or args.launcher != 'pytorch':
            init_dist(args.launcher, backend='nccl')
    data_cfg = Config.fromfile(args.data_config)
    if args.cfg_options:
        data_cfg.merge_from_dict(args.cfg_options)
    init_default_scope(data_cfg.get('default_scope', 'mmseg'))
    dataset = build_images(data_cfg, args.splits, not args.no_gt)
    ks = args.k or [len(dataset.metainfo.get('classes', ()))]
    extractor = FeatureExtractor(args.extractor_config, args.checkpoint,
                                 args.mode, args.layer, args.input_scale)
    if args.launcher != 'none' and torch.cuda.is_available():
        extractor.cuda()  # init_dist set this process's device
    n_k = 1 if args.mode == 'pred' else len(set(ks))
    several = n_k * len(args.outlier_ratio) + len(set(args.dbscan_eps)) > 1
    start = time.perf_counter()
    metas = generate_aux_label_sets(
        extractor, dataset, args.out_dir, ks=ks,
        outlier_ratios=args.outlier_ratio, outlier_scope=args.outlier_scope,
        samples_per_image=args.samples_per_image,
        label_stride=args.label_stride, seed=args.seed, n_init=args.n_init,
        img_suffix=args.img_suffix, subdirs=several,
        dbscan_eps=args.dbscan_eps,
        dbscan_min_samples=args.dbscan_min_samples,
        dbscan_samples=args.dbscan_samples)
    secs = time.perf_counter() - start
    if get_rank() != 0:
        return
    print(f'\n{metas[0]["images"]} images in {secs:.1f} s '
          f'({metas[0]["processes"]} process(es)):')
    for meta in metas:
        where = osp.join(args.out_dir, meta['setting']) if several \
            else args.out_dir
        print(f'  {where}: K = {meta["k"]}, '
              f'{100 * meta["ignored_share"]:.1f} % ignored')
    print('see meta.json and preview.png in each folder')


if __name__ == '__main__':
    main()
