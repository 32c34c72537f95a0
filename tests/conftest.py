import os
import os.path as osp
import sys

import cv2
import numpy as np
import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PYTHON = sys.executable


def write_camvid(root: str, n_per_split=(4, 2, 2), seed: int = 0,
                 size=(24, 32), bad_value=None) -> str:
    """A tiny CamVid in the SegNet layout, labels 0..11 (11 = void); file
    names differ between splits, as in the real release."""
    rng = np.random.default_rng(seed)
    for (split, ann, seq), n in zip(
            (('train', 'trainannot', '0001TP'), ('val', 'valannot', '0016E5'),
             ('test', 'testannot', 'Seq05VD')), n_per_split):
        os.makedirs(osp.join(root, split), exist_ok=True)
        os.makedirs(osp.join(root, ann), exist_ok=True)
        for i in range(n):
            name = f'{seq}_{i:06d}.png'
            img = rng.integers(0, 255, size + (3, ), dtype=np.uint8)
            lbl = rng.integers(0, 12, size, dtype=np.uint8)
            if bad_value is not None and split == 'train' and i == 1:
                lbl[0, 0] = bad_value
            cv2.imwrite(osp.join(root, split, name), img)
            cv2.imwrite(osp.join(root, ann, name), lbl)
    return root


@pytest.fixture
def camvid_root(tmp_path):
    return write_camvid(str(tmp_path / 'camvid'))


@pytest.fixture(scope='session')
def synthetic_root(tmp_path_factory):
    from cp2_mmseg.datasets import make_synthetic_dataset
    root = str(tmp_path_factory.mktemp('synthetic'))
    make_synthetic_dataset(root, num_train=16, num_val=4, size=64, seed=0)
    return root
