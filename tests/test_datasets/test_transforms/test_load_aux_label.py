import os.path as osp

import cv2
import numpy as np
import pytest

from cp2_mmseg.datasets.transforms import LoadAuxLabel


def test_loads_checks_and_names_the_file(tmp_path):
    aux = np.array([[0, 1], [255, 3]], np.uint8)
    cv2.imwrite(str(tmp_path / 'a_0001.png'), aux)
    t = LoadAuxLabel(str(tmp_path), num_aux=4,
                     img_suffix='_leftImg8bit.png')
    out = t(dict(img_path='/data/x/a_0001_leftImg8bit.png'))
    assert np.array_equal(out['gt_aux_label'], aux)
    assert out['aux_label_path'] == osp.join(str(tmp_path), 'a_0001.png')
    with pytest.raises(FileNotFoundError, match='b_0002.png'):
        t(dict(img_path='/data/x/b_0002_leftImg8bit.png'))
    with pytest.raises(ValueError, match=r'a_0001\.png.*\[3\]'):
        LoadAuxLabel(str(tmp_path), num_aux=3)(
            dict(img_path='/data/a_0001.jpg'))
