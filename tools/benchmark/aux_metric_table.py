# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Score every auxiliary-label folder under a root and print one table.

    python tools/benchmark/aux_metric_table.py CONFIG AUX_ROOT [AUX_ROOT ...]
        [--split val] [--ann-file SPLIT.txt] [--out table.md]

For each folder with a ``meta.json`` below the roots (one per extractor /
K / outlier setting, as tools/generate_aux_labels.py writes them), runs
tools/eval_aux_labels.py on CONFIG's ``--split`` (optionally restricted to
``--ann-file``, e.g. the labelled 1/8 split a user would have), keeps its
JSON next to the labels as ``scores_<split>[_<ann stem>].json``, and prints
a markdown table of the headline scores with the time each took.
"""
import argparse
import glob
import json
import os.path as osp
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
COLUMNS = ('q', 'pos_prec_a', 'fnr_a', 'pos_rec', 'coverage', 'nmi', 'ari',
           'hungarian_miou')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config')
    parser.add_argument('roots', nargs='+')
    parser.add_argument('--split', default='val')
    parser.add_argument('--ann-file', default=None)
    parser.add_argument('--out')
    args = parser.parse_args()
    tag = args.split + (
        '_' + osp.splitext(osp.basename(args.ann_file))[0]
        if args.ann_file else '')
    lines = ['| labels | K | outliers | ' + ' | '.join(COLUMNS) +
             ' | seconds |', '|---' * (len(COLUMNS) + 4) + '|']
    for root in args.roots:
        for meta_path in sorted(glob.glob(osp.join(root, '**', 'meta.json'),
                                          recursive=True)):
            folder = osp.dirname(meta_path)
            meta = json.load(open(meta_path))
            out = osp.join(folder, f'scores_{tag}.json')
            if not osp.isfile(out):
                cmd = [sys.executable, 'tools/eval_aux_labels.py',
                       args.config, folder, '--split', args.split, '--out',
                       out]
                if args.ann_file:
                    cmd += ['--cfg-options',
                            f'{args.split}_dataloader.dataset.ann_file='
                            f'{osp.abspath(args.ann_file)}']
                proc = subprocess.run(cmd, cwd=ROOT, capture_output=True,
                                      text=True)
                if proc.returncode:
                    sys.exit(f'error scoring {folder}:\n{proc.stderr[-2000:]}')
            res = json.load(open(out))
            scores = {k.replace('aux/', ''): v
                      for k, v in res['scores'].items()}
            name = osp.relpath(folder, osp.dirname(osp.abspath(root)))
            if meta.get('clustering') == 'dbscan':  # noise is ignore
                removed = f'DBSCAN noise {meta["ignored_share"]:.3f}'
            else:
                removed = f'{meta["outlier_ratio"]:g}'
            lines.append(
                f'| {name} | {meta["k"]} | {removed} | ' +
                ' | '.join(f'{scores[c]:.3f}' for c in COLUMNS) +
                f' | {res.get("seconds", float("nan")):.1f} |')
    table = '\n'.join(lines)
    print(table)
    if args.out:
        with open(args.out, 'w') as fh:
            fh.write(table + '\n')


if __name__ == '__main__':
    main()
