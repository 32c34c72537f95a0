import filecmp
import os

import cv2
import numpy as np

from cp2_mmseg.datasets import SYNTHETIC_CLASSES, make_synthetic_dataset


def test_deterministic_and_valid(tmp_path):
    a, b = str(tmp_path / 'a'), str(tmp_path / 'b')
    assert make_synthetic_dataset(a, 5, 2, 32, seed=3) == {'train': 5,
                                                          'val': 2}
    make_synthetic_dataset(b, 5, 2, 32, seed=3)
    names = sorted(os.listdir(f'{a}/ann_dir/train'))
    assert len(names) == 5
    for sub in ('img_dir/train', 'ann_dir/train', 'ann_dir/val'):
        for n in os.listdir(f'{a}/{sub}'):
            assert filecmp.cmp(f'{a}/{sub}/{n}', f'{b}/{sub}/{n}',
                               shallow=False)
    labels = np.stack([cv2.imread(f'{a}/ann_dir/train/{n}', 0)
                       for n in names])
    assert labels.max() < len(SYNTHETIC_CLASSES)
    assert len(np.unique(labels)) > 1
