# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Write the deterministic synthetic shapes data set used by ``make demo``.

    python tools/dataset_converters/make_synthetic_shapes.py data/synthetic_shapes
"""
import argparse

from cp2_mmseg.datasets import SYNTHETIC_CLASSES, make_synthetic_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument('--num-train', type=int, default=200)
    parser.add_argument('--num-val', type=int, default=50)
    parser.add_argument('--size', type=int, default=64)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--class-colours', action='store_true',
                        help='grey background, one colour family per class '
                        '(the easy set of make demo)')
    args = parser.parse_args()
    counts = make_synthetic_dataset(args.out_dir, args.num_train,
                                    args.num_val, args.size, args.seed,
                                    args.class_colours)
    print(f'wrote {counts} images of {args.size}x{args.size} with classes '
          f'{SYNTHETIC_CLASSES} to {args.out_dir}')


if __name__ == '__main__':
    main()
