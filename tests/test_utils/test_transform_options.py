import os.path as osp

import pytest
from mmengine.config import Config

from cp2_mmseg.utils import set_transform_options

from ..conftest import REPO


def test_sets_every_transform_of_the_type_nested_included():
    cfg = Config.fromfile(osp.join(
        REPO, 'configs', 'beyond_single',
        'deeplabv3-auxcon-pretrain_r18-d16_1xb8-500iter_camvid-180x240.py'))
    counts = set_transform_options(cfg, {
        'RandomResize.scale': (64, 48),
        'LoadAuxLabel.aux_root': '/x',
        'Resize.scale': (64, 48)
    })
    assert counts == {'RandomResize.scale': 1, 'LoadAuxLabel.aux_root': 1,
                      'Resize.scale': 1}  # train (in TwoViews), test
    view = cfg.train_dataloader.dataset.pipeline[-1].view_pipeline
    assert view[0].scale == (64, 48)
    assert cfg.train_dataloader.dataset.pipeline[1].aux_root == '/x'
    assert cfg.test_dataloader.dataset.pipeline[1].scale == (64, 48)


def test_unknown_type_or_malformed_option_is_an_error():
    cfg = Config(dict(train_dataloader=dict(dataset=dict(
        pipeline=[dict(type='LoadImageFromFile')]))))
    with pytest.raises(ValueError, match="'Resize'"):
        set_transform_options(cfg, {'Resize.scale': 1})
    with pytest.raises(ValueError, match='Type.key'):
        set_transform_options(cfg, {'scale': 1})
