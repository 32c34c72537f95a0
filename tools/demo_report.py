# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""The last step of ``make demo``: per-class IoU of each trained model on
the test split of its config, beside the IoU of chance, and a picture of
predictions next to the ground truth.

    python tools/demo_report.py NAME=CONFIG:CHECKPOINT [NAME=...] \
        --out work_dirs/demo/predictions.png [--images 6]

Chance for class c is the IoU of a guess that draws every pixel's class
from the true class frequencies p: p_c / (2 - p_c). Exits non-zero when a
model is not above chance on every class (the demo then failed).
"""
import argparse
import os.path as osp
import sys

import cv2
import numpy as np
import torch


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('models', nargs='+', help='NAME=CONFIG:CHECKPOINT')
    parser.add_argument('--out', required=True, help='picture (PNG)')
    parser.add_argument('--images', type=int, default=6)
    return parser.parse_args()


def predict_all(cfg_path: str, ckpt: str, infos: list) -> list:
    """Predicted label maps of the images, one forward pass each."""
    from mmseg.apis import inference_model, init_model
    model = init_model(cfg_path, ckpt, device='cpu')
    # inference needs no labels: drop the steps that read / check them
    model.cfg.test_pipeline = [
        t for t in model.cfg.test_dataloader.dataset.pipeline
        if t['type'] not in ('LoadAnnotations', 'ValidateSegLabels')
    ]
    with torch.no_grad():
        return [inference_model(model, info['img_path']).pred_sem_seg
                .data[0].numpy() for info in infos]


def iou_table(preds: list, gts: list, num_classes: int,
              ignore_index: int = 255) -> np.ndarray:
    """Per-class IoU (%) over all images (one confusion matrix)."""
    conf = np.zeros((num_classes, num_classes), np.int64)
    for p, g in zip(preds, gts):
        ok = g != ignore_index
        conf += np.bincount(num_classes * g[ok].astype(np.int64) + p[ok],
                            minlength=num_classes**2).reshape(
                                num_classes, num_classes)
    inter = np.diag(conf).astype(float)
    union = conf.sum(0) + conf.sum(1) - inter
    return 100 * inter / np.maximum(union, 1)


def main() -> None:
    args = parse_args()
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    import cp2_mmseg  # noqa: F401
    models = []
    for spec in args.models:
        name, _, rest = spec.partition('=')
        cfg_path, _, ckpt = rest.rpartition(':')
        if not (name and cfg_path and ckpt):
            sys.exit(f'error: expected NAME=CONFIG:CHECKPOINT, got {spec!r}')
        for f in (cfg_path, ckpt):
            if not osp.isfile(f):
                sys.exit(f'error: {f} does not exist')
        models.append((name, cfg_path, ckpt))
    init_default_scope('mmseg')
    cfg = Config.fromfile(models[0][1])
    ds = DATASETS.build(dict(cfg.test_dataloader.dataset, pipeline=[]))
    classes = ds.metainfo['classes']
    pal = np.array(ds.metainfo['palette'], np.uint8)[:, ::-1]  # BGR
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    gts = [cv2.imread(i['seg_map_path'], cv2.IMREAD_UNCHANGED) for i in infos]
    freq = np.bincount(np.concatenate([g[g < len(classes)].ravel()
                                       for g in gts]),
                       minlength=len(classes)) / sum(
                           (g < len(classes)).sum() for g in gts)
    chance = 100 * freq / (2 - freq)
    preds = {n: predict_all(c, k, infos) for n, c, k in models}
    ious = {n: iou_table(preds[n], gts, len(classes)) for n in preds}

    width = max(len(c) for c in classes)
    head = f'{"class":<{width}}  {"chance":>7}' + ''.join(
        f'  {n:>14}' for n in preds)
    print(f'\nIoU (%) on the {len(ds)} test images of {ds.data_root} '
          '(SYNTHETIC data):')
    print(head)
    for c, name in enumerate(classes):
        print(f'{name:<{width}}  {chance[c]:7.2f}' + ''.join(
            f'  {ious[n][c]:14.2f}' for n in preds))
    print(f'{"mIoU":<{width}}  {chance.mean():7.2f}' + ''.join(
        f'  {ious[n].mean():14.2f}' for n in preds))

    # picture: image | ground truth | each model
    idx = np.linspace(0, len(ds) - 1, min(args.images, len(ds))).astype(int)
    side = 128
    tiles = []
    for i in idx:
        img = cv2.imread(infos[i]['img_path'])
        row = [img, pal[np.clip(gts[i], 0, len(pal) - 1)]] + [
            pal[preds[n][i]] for n in preds]
        row = [cv2.resize(t, (side, side), interpolation=cv2.INTER_NEAREST)
               for t in row]
        tiles.append(np.concatenate(row, axis=1))
    header = np.full((18, tiles[0].shape[1], 3), 255, np.uint8)
    for k, label in enumerate(['image', 'ground truth'] + list(preds)):
        cv2.putText(header, label[:18], (4 + side * k, 13),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.38, (0, 0, 0), 1)
    cv2.imwrite(args.out, np.concatenate([header] + tiles, axis=0))
    print(f'predictions next to the ground truth: {args.out}')
    below = [(n, classes[c]) for n in ious for c in range(len(classes))
             if ious[n][c] <= chance[c]]
    if below:
        sys.exit(f'error: not above chance: {below}')


if __name__ == '__main__':
    main()
