# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Pictures for docs/results.md from a matrix's results.

    python tools/benchmark/plot_results.py MATRIX.py [--out docs/results/camvid_cpu]
        [--images 3] [--no-predictions]

Writes ``curves.png`` (validation mIoU against iteration: per label
fraction, each method's mean over its seeds with their range shaded) and, unless ``--no-predictions``, ``predictions.png``: a few test
images with their ground truth and each method's prediction (seed 0 rows
whose checkpoint is still in the work dir), small enough to commit.
"""
import argparse
import glob
import json
import os
import os.path as osp

import numpy as np

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_results(results_dir: str) -> list:
    out = []
    for p in sorted(glob.glob(osp.join(results_dir, '*.json'))):
        r = json.load(open(p))
        if 'name' in r and 'mIoU' in r:
            out.append(r)
    return out


def plot_curves(results: list, path: str) -> None:
    """One panel per label fraction; per method (and iteration count) the
    mean validation curve over its seeds, with the seeds' range shaded."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    groups: dict = {}
    for r in results:
        if r.get('val_curve'):
            key = (str(r.get('fraction', '')), r['method'], r.get('iters'))
            groups.setdefault(key, []).append(r['val_curve'])
    fractions = sorted({k[0] for k in groups})
    if not fractions:
        return
    methods = sorted({(k[1], k[2]) for k in groups}, key=str)
    cmap = plt.get_cmap('tab10' if len(methods) <= 10 else 'tab20')
    colour = {m: cmap(n % cmap.N) for n, m in enumerate(methods)}
    fig, axes = plt.subplots(1, len(fractions), squeeze=False, sharey=True,
                             figsize=(3.4 + 3.2 * len(fractions), 3.8),
                             dpi=100)
    for ax, frac in zip(axes[0], fractions):
        for (f, method, iters), curves in sorted(groups.items(), key=str):
            if f != frac:
                continue
            by_iter: dict = {}
            for curve in curves:
                for it, miou in curve:
                    by_iter.setdefault(it, []).append(miou)
            its = [it for it in sorted(by_iter)
                   if len(by_iter[it]) == len(curves)]
            vals = np.array([by_iter[it] for it in its])
            label = method + ('' if iters in (None, 2000) else f' {iters}')
            c = colour[(method, iters)]
            ax.plot(its, vals.mean(1), marker='.', color=c,
                    label=f'{label} ({len(curves)})')
            if len(curves) > 1:
                ax.fill_between(its, vals.min(1), vals.max(1), color=c,
                                alpha=0.15, linewidth=0)
        ax.set_title(f'labels {frac}' if frac else 'validation',
                     fontsize=9)
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6.5, ncol=2, loc='lower right',
                  title='mean over (seeds); band: min-max',
                  title_fontsize=6.5)
    axes[0][0].set_ylabel('val mIoU')
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_predictions(matrix, results: list, path: str, n_images: int) -> None:
    """Image | ground truth | one prediction per seed-0 row."""
    import cv2
    from mmengine.config import Config
    from mmseg.apis import inference_model, init_model
    from mmseg.registry import DATASETS
    from mmengine.registry import init_default_scope
    rows = [r for r in results if r['seed'] == 0]
    models = []
    for r in rows:
        test_cmd = r['commands'].get('test', '').split()
        if len(test_cmd) < 4:
            continue
        cfg_path, ckpt = test_cmd[2], test_cmd[3]
        if osp.isfile(osp.join(ROOT, ckpt)):
            models.append((r['method'], cfg_path, osp.join(ROOT, ckpt)))
    if not models:
        print('no checkpoints found: predictions.png not written')
        return
    init_default_scope('mmseg')
    cfg = Config.fromfile(osp.join(ROOT, models[0][1]))
    ds_cfg = dict(cfg.test_dataloader.dataset)
    ds = DATASETS.build(dict(ds_cfg, pipeline=[]))
    pal = np.array(ds.metainfo['palette'], np.uint8)[:, ::-1]  # BGR
    idx = np.linspace(0, len(ds) - 1, n_images).astype(int)
    preds = {}
    for name, cfg_path, ckpt in models:
        model = init_model(osp.join(ROOT, cfg_path), ckpt, device='cpu')
        # inference needs no labels: drop the steps that read / check them
        model.cfg.test_pipeline = [
            t for t in model.cfg.test_dataloader.dataset.pipeline
            if t['type'] not in ('LoadAnnotations', 'ValidateSegLabels')
        ]
        preds[name] = [inference_model(
            model, ds.get_data_info(int(i))['img_path']).pred_sem_seg.data[0]
            .numpy() for i in idx]
    tiles = []
    for j, i in enumerate(idx):
        info = ds.get_data_info(int(i))
        img = cv2.imread(info['img_path'])
        gt = cv2.imread(info['seg_map_path'], cv2.IMREAD_UNCHANGED)
        gt_col = np.zeros_like(img)
        ok = gt < len(pal)
        gt_col[ok] = pal[gt[ok]]
        row = [img, gt_col] + [pal[np.clip(preds[n][j], 0, len(pal) - 1)]
                               for n, _, _ in models]
        row = [cv2.resize(t, (160, 120), interpolation=cv2.INTER_NEAREST)
               for t in row]
        tiles.append(np.concatenate(row, axis=1))
    header = np.full((18, tiles[0].shape[1], 3), 255, np.uint8)
    for k, label in enumerate(['image', 'ground truth'] +
                              [n for n, _, _ in models]):
        cv2.putText(header, label[:20], (4 + 160 * k, 13),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
    cv2.imwrite(path, np.concatenate([header] + tiles, axis=0))


def main() -> None:
    from mmengine.config import Config
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('matrix')
    parser.add_argument('--out', help='default: the matrix results_dir')
    parser.add_argument('--images', type=int, default=3)
    parser.add_argument('--no-predictions', action='store_true')
    args = parser.parse_args()
    matrix = Config.fromfile(args.matrix)
    results_dir = osp.join(ROOT, matrix.get('results_dir') or
                           matrix.work_root)
    out = args.out or results_dir
    os.makedirs(out, exist_ok=True)
    results = load_results(results_dir)
    plot_curves(results, osp.join(out, 'curves.png'))
    print(f'wrote {osp.join(out, "curves.png")} ({len(results)} rows)')
    if not args.no_predictions:
        plot_predictions(matrix, results, osp.join(out, 'predictions.png'),
                         args.images)
        print(f'wrote {osp.join(out, "predictions.png")}')


if __name__ == '__main__':
    main()
