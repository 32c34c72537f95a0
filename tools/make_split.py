# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Write a deterministic low-label subset of a data set's training split.

    python tools/make_split.py CONFIG (--fraction 1/8 | --count 92)
        [--seed 0] [--balanced] [--out FILE] [--cfg-options ...]

CONFIG's ``train_dataloader`` data set lists the candidates (wrappers such
as ``RepeatDataset`` are looked through; a ``ConcatDataset``, e.g. VOC aug,
contributes the union of its data sets, each image once). One line per
chosen image, as the stock data sets read ``ann_file``: the image path
relative to the image folder without its suffix, e.g. ``0001TP_006690``
(CamVid), ``aachen/aachen_000000_000019`` (Cityscapes), ``2007_000032``
(VOC, PASCAL-Context, COCO-Stuff). The default output is
``<data_root>/splits/train_<1-8 | 92>[_seed<S>].txt``, which configs name
as ``ann_file='splits/train_1-8.txt'``.

``--balanced`` first covers the classes, rarest first (for each class not
yet in the subset, a random image that contains it), then fills the rest at
random, so rare classes appear; without it the choice is uniform. Both are
deterministic for a seed. The tool prints which classes the subset lacks.
"""
import argparse
import os
import os.path as osp
import sys
from fractions import Fraction
from typing import List, Tuple

import numpy as np
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.utils import ProgressBar

import cp2_mmseg  # noqa: F401
from cp2_mmseg.aux_labels import split_dataset_cfg


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config', help='config whose train set is split')
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument('--fraction', type=Fraction,
                       help='share of the training images, e.g. 1/8 or 0.25')
    group.add_argument('--count', type=int, help='number of images')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--balanced', action='store_true',
                        help='cover every class first (rarest first)')
    parser.add_argument('--out', help='split file (see above for default)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def _datasets(ds_cfg: dict) -> List[dict]:
    if ds_cfg.get('type') == 'ConcatDataset':
        out = []
        for d in ds_cfg['datasets']:
            out += _datasets(dict(d))
        return out
    return [ds_cfg]


def list_candidates(cfg: Config,
                    with_labels: bool) -> Tuple[List[str], list, str, int]:
    """Lines, class sets (or None), data root and class count of the train
    set of ``cfg``."""
    from mmseg.registry import DATASETS
    ds_cfg = split_dataset_cfg(cfg, 'train')
    lines, classes, seen = [], [], set()
    root, num_classes = None, 0
    for sub in _datasets(ds_cfg):
        sub = dict(sub, pipeline=[dict(type='LoadAnnotations')]
                   if with_labels else [])
        dataset = DATASETS.build(sub)
        root = root or dataset.data_root
        num_classes = len(dataset.metainfo['classes'])
        img_dir = dataset.data_prefix.get('img_path', '')
        suffix = getattr(dataset, 'img_suffix', '')
        bar = ProgressBar(len(dataset)) if with_labels else None
        for i in range(len(dataset)):
            path = dataset.get_data_info(i)['img_path']
            line = osp.relpath(path, img_dir)
            if suffix and line.endswith(suffix):
                line = line[:-len(suffix)]
            if line in seen:
                if bar:
                    bar.update()
                continue
            seen.add(line)
            lines.append(line)
            if with_labels:  # labels as the data set loads them
                present = np.unique(dataset[i]['gt_seg_map'])
                classes.append(
                    set(int(c) for c in present if c < num_classes))
                bar.update()
    if not lines:
        raise FileNotFoundError(
            f'{cfg.filename}: the train set of {root!r} lists no images')
    return lines, classes if with_labels else None, root, num_classes


def choose(n_total: int, n: int, rng: np.random.Generator,
           classes=None, num_classes: int = 0) -> List[int]:
    """Indices of the subset (sorted).

    Args:
        n_total (int): Candidates.
        n (int): Subset size.
        rng (np.random.Generator): Seeded generator.
        classes (list[set], optional): Classes of each candidate; with
            them, every class is covered first (rarest first).
        num_classes (int): Classes of the data set.

    Returns:
        list[int]: Chosen candidate indices.
    """
    if classes is None:  # uniform (as the former camvid_subset.py drew)
        return sorted(rng.choice(n_total, n, replace=False).tolist())
    order = rng.permutation(n_total).tolist()
    chosen: List[int] = []
    if num_classes:
        freq = np.zeros(num_classes, np.int64)
        for cs in classes:
            for c in cs:
                freq[c] += 1
        covered: set = set()
        for c in sorted(range(num_classes), key=lambda c: (freq[c], c)):
            if len(chosen) >= n or c in covered or freq[c] == 0:
                continue
            pick = next(i for i in order
                        if c in classes[i] and i not in chosen)
            chosen.append(pick)
            covered |= classes[pick]
    taken = set(chosen)
    chosen += [i for i in order if i not in taken][:n - len(chosen)]
    return sorted(chosen)


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    try:
        lines, classes, root, num_classes = list_candidates(
            cfg, with_labels=args.balanced)
    except (KeyError, FileNotFoundError) as e:
        sys.exit(f'error: {e}')
    total = len(lines)
    if args.fraction is not None:
        if not 0 < args.fraction <= 1:
            sys.exit(f'error: --fraction must be in (0, 1], got '
                     f'{args.fraction}')
        n = max(1, int(round(total * float(args.fraction))))
        frac = args.fraction.limit_denominator(1000)
        tag = f'{frac.numerator}-{frac.denominator}'
    else:
        if not 0 < args.count <= total:
            sys.exit(f'error: --count must be in 1..{total}, got '
                     f'{args.count}')
        n, tag = args.count, str(args.count)
    rng = np.random.default_rng(args.seed)
    chosen = choose(total, n, rng, classes, num_classes)
    out = args.out or osp.join(
        root, 'splits', f'train_{tag}' +
        (f'_seed{args.seed}' if args.seed else '') + '.txt')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with open(out, 'w') as f:
        f.writelines(lines[i] + '\n' for i in chosen)
    msg = f'wrote {n} of {total} training images to {out}'
    if classes is not None:
        present = set().union(*(classes[i] for i in chosen))
        missing = sorted(set(range(num_classes)) - present)
        msg += (f'; classes missing from the subset: {missing}'
                if missing else '; every class is present')
    print(msg)


if __name__ == '__main__':
    main()
