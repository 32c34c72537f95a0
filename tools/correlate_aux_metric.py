# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""How well does an auxiliary-label score predict the final mIoU?

    python tools/correlate_aux_metric.py ROWS.csv [--score aux/q ...]
        [--miou miou] [--out corr.json]

ROWS.csv has one row per labelling strategy: a ``name`` column, the mIoU
its pretrain + fine-tune reached (``--miou`` column), and one column per
score (named as ``tools/eval_aux_labels.py --out`` writes them, e.g.
``aux/q``). For each
score it prints Pearson r, Spearman rho and Kendall tau with their
p-values, and whether the score ranks the strategies as mIoU does.
"""
import argparse
import csv
import json
import sys
from typing import Dict, List

from scipy import stats


def correlations(scores: List[float], miou: List[float]) -> Dict[str, float]:
    """Pearson, Spearman and Kendall correlation (and p-values).

    Args:
        scores (list[float]): A score per strategy.
        miou (list[float]): The mIoU per strategy.

    Returns:
        dict[str, float]: ``pearson``, ``pearson_p``, ``spearman``,
        ``spearman_p``, ``kendall``, ``kendall_p``, ``same_ranking``
        (1.0 when the orders agree exactly).
    """
    if len(scores) != len(miou) or len(scores) < 3:
        raise ValueError(f'need >= 3 strategies with a score and an mIoU, '
                         f'got {len(scores)} scores and {len(miou)} mIoUs')
    p = stats.pearsonr(scores, miou)
    s = stats.spearmanr(scores, miou)
    k = stats.kendalltau(scores, miou)
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    return dict(pearson=float(p[0]), pearson_p=float(p[1]),
                spearman=float(s[0]), spearman_p=float(s[1]),
                kendall=float(k[0]), kendall_p=float(k[1]),
                same_ranking=float(order == sorted(
                    range(len(miou)), key=lambda i: miou[i])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('rows', help='CSV: name, mIoU and score columns')
    parser.add_argument('--score', nargs='+', default=None,
                        help='score columns (default: every other column)')
    parser.add_argument('--miou', default='miou', help='mIoU column')
    parser.add_argument('--out', default=None, help='JSON file to write')
    args = parser.parse_args()
    with open(args.rows) as f:
        rows = list(csv.DictReader(f))
    if not rows or args.miou not in rows[0]:
        sys.exit(f'error: {args.rows} needs a {args.miou!r} column and rows')
    names = args.score or [c for c in rows[0] if c not in ('name',
                                                            args.miou)]
    miou = [float(r[args.miou]) for r in rows]
    result = {}
    for name in names:
        if name not in rows[0]:
            sys.exit(f'error: no column {name!r} in {args.rows}')
        result[name] = correlations([float(r[name]) for r in rows], miou)
    print(f'{len(rows)} strategies')
    print('| score | Pearson r | Spearman rho | Kendall tau | same ranking |')
    print('|---|---|---|---|---|')
    for name, c in result.items():
        print(f'| {name} | {c["pearson"]:.3f} (p {c["pearson_p"]:.2g}) | '
              f'{c["spearman"]:.3f} (p {c["spearman_p"]:.2g}) | '
              f'{c["kendall"]:.3f} (p {c["kendall_p"]:.2g}) | '
              f'{"yes" if c["same_ranking"] else "no"} |')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=1)


if __name__ == '__main__':
    main()
