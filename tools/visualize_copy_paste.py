# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Draw what CP2 pretraining sees: a grid of query / key composites with the
outlines of their pasted rectangles, next to the foreground views.

    python tools/visualize_copy_paste.py CONFIG --out copy_paste.png [-n 6]

Each row: foreground view (q) | query composite | foreground view (k) | key
composite; green: the pasted rectangle.
"""
import argparse

import cv2
import numpy as np
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

import cp2_mmseg  # noqa: F401


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config')
    parser.add_argument('--out', default='copy_paste.png')
    parser.add_argument('-n', type=int, default=6, help='rows')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    from mmseg.registry import DATASETS
    ds_cfg = cfg.train_dataloader.dataset
    # keep the intermediate results: stop before packing
    ds_cfg.pipeline = [t for t in ds_cfg.pipeline
                       if t['type'] != 'PackCopyPasteInputs']
    dataset = DATASETS.build(ds_cfg)
    np.random.seed(args.seed)
    rows = []
    for i in np.random.choice(len(dataset), args.n, replace=len(dataset) <
                              args.n):
        r = dataset[int(i)]
        tiles = []
        for view, comp, (top, left, h, w) in zip(r['fg_views'], r['img'],
                                                 r['paste_boxes']):
            comp = comp.copy()
            cv2.rectangle(comp, (left, top), (left + w - 1, top + h - 1),
                          (0, 255, 0), 2)
            tiles += [view, comp]
        rows.append(np.concatenate(
            [np.pad(t, ((2, 2), (2, 2), (0, 0)), constant_values=255)
             for t in tiles], axis=1))
    grid = np.concatenate(rows, axis=0)
    cv2.imwrite(args.out, grid)
    print(f'wrote {args.out} ({grid.shape[1]}x{grid.shape[0]}): columns '
          'fg view q | query | fg view k | key')


if __name__ == '__main__':
    main()
