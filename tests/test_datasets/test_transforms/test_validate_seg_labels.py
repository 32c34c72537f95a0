import numpy as np
import pytest

from cp2_mmseg.datasets.transforms import ValidateSegLabels


def test_accepts_classes_and_ignore():
    t = ValidateSegLabels(num_classes=3)
    seg = np.array([[0, 1], [2, 255]], np.uint8)
    assert t(dict(gt_seg_map=seg, seg_map_path='x.png'))['gt_seg_map'] is seg


def test_rejects_out_of_range():
    t = ValidateSegLabels(num_classes=3)
    seg = np.array([[0, 3], [7, 255]], np.uint8)
    with pytest.raises(ValueError, match=r'x\.png.*\[3, 7\]'):
        t(dict(gt_seg_map=seg, seg_map_path='x.png'))
    assert 'num_classes=3' in repr(t)
