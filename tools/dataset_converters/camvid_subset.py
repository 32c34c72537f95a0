# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Write a split file with a random fraction of the CamVid train images.

    python tools/dataset_converters/camvid_subset.py data/camvid --fraction 0.125

writes data/camvid/splits/train_1-8.txt (file stems, one a line), used by
``ann_file='splits/train_1-8.txt'`` in a config. Deterministic under --seed.
"""
import argparse
import os
import os.path as osp
from fractions import Fraction

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('data_root')
    parser.add_argument('--split', default='train')
    parser.add_argument('--fraction', type=float, default=0.125)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', help='default: splits/<split>_1-<n>.txt')
    args = parser.parse_args()
    img_dir = osp.join(args.data_root, args.split)
    if not osp.isdir(img_dir):
        raise FileNotFoundError(f'image folder {img_dir!r} not found')
    stems = sorted(
        osp.splitext(f)[0] for f in os.listdir(img_dir) if f.endswith('.png'))
    if not stems:
        raise FileNotFoundError(f'no .png images in {img_dir!r}')
    n = max(1, int(round(len(stems) * args.fraction)))
    rng = np.random.default_rng(args.seed)
    chosen = sorted(rng.choice(len(stems), n, replace=False).tolist())
    frac = Fraction(args.fraction).limit_denominator(100)
    out = args.out or osp.join(
        args.data_root, 'splits',
        f'{args.split}_{frac.numerator}-{frac.denominator}.txt')
    os.makedirs(osp.dirname(out), exist_ok=True)
    with open(out, 'w') as f:
        f.writelines(stems[i] + '\n' for i in chosen)
    print(f'wrote {n} of {len(stems)} {args.split} stems to {out}')


if __name__ == '__main__':
    main()
