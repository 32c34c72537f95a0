import os
import os.path as osp

import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

import cp2_mmseg  # noqa: F401
from cp2_mmseg.datasets import CamVidDataset

from ..conftest import write_camvid

PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ValidateSegLabels', num_classes=11, ignore_index=255),
]


def build(root, split='train', ann='trainannot', **kwargs):
    init_default_scope('mmseg')
    return DATASETS.build(
        dict(
            type='CamVidDataset',
            data_root=root,
            data_prefix=dict(img_path=split, seg_map_path=ann),
            pipeline=PIPELINE,
            **kwargs))


def test_metainfo():
    meta = CamVidDataset.METAINFO
    assert len(meta['classes']) == 11 and len(meta['palette']) == 11
    assert meta['classes'][0] == 'Sky' and meta['classes'][-1] == 'Bicyclist'


def test_load_and_void_to_ignore(camvid_root):
    ds = build(camvid_root)
    assert len(ds) == 4
    assert ds.metainfo['label_map'] == {11: 255}
    for i in range(len(ds)):
        out = ds[i]
        raw = __import__('cv2').imread(out['seg_map_path'], 0)
        seg = out['gt_seg_map']
        assert (seg[raw == 11] == 255).all()
        assert (seg[raw != 11] == raw[raw != 11]).all()
        assert set(np.unique(seg).tolist()) <= set(range(11)) | {255}


def test_split_file(camvid_root):
    os.makedirs(osp.join(camvid_root, 'splits'))
    with open(osp.join(camvid_root, 'splits', 'train.txt'), 'w') as f:
        f.write('0001TP_000002\n0001TP_000000\n')
    ds = build(camvid_root, ann_file='splits/train.txt')
    assert [
        osp.basename(ds.get_data_info(i)['img_path']) for i in range(len(ds))
    ] == ['0001TP_000002.png', '0001TP_000000.png']


def test_missing_root_and_split(tmp_path, camvid_root):
    missing = str(tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError, match='nowhere'):
        build(missing)
    with pytest.raises(FileNotFoundError, match='splits/nope.txt'):
        build(camvid_root, ann_file='splits/nope.txt')


def test_bad_label_value_names_file_and_value(tmp_path):
    root = write_camvid(str(tmp_path / 'bad'), bad_value=12)
    ds = build(root)
    with pytest.raises(ValueError) as err:
        for i in range(len(ds)):
            ds[i]
    assert '0001TP_000001.png' in str(err.value)
    assert '[12]' in str(err.value)


def test_reduce_zero_label_refused(camvid_root):
    with pytest.raises(ValueError, match='reduce_zero_label'):
        build(camvid_root, reduce_zero_label=True)


def test_base_config_on_real_layout(camvid_root):
    """The shipped dataset config reads the SegNet layout as it is."""
    from mmengine.config import Config
    from ..conftest import REPO
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/datasets/camvid.py'))
    init_default_scope('mmseg')
    for key, n in (('train_dataloader', 4), ('val_dataloader', 2),
                   ('test_dataloader', 2)):
        ds_cfg = cfg[key].dataset
        ds_cfg.data_root = camvid_root
        ds = DATASETS.build(ds_cfg)
        assert len(ds) == n
        out = ds[0]
        assert out['data_samples'].gt_sem_seg.data.max() <= 255
    trainval = DATASETS.build(
        dict(
            type='ConcatDataset',
            datasets=[
                dict(d, data_root=camvid_root)
                for d in cfg.camvid_trainval.datasets
            ]))
    assert len(trainval) == 6


def test_tta_pipeline_validates_labels(tmp_path):
    """The shipped TTA pipeline checks label values like the test one."""
    from mmengine.config import Config
    from ..conftest import REPO
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/datasets/camvid.py'))
    root = write_camvid(str(tmp_path / 'bad'), bad_value=12)
    init_default_scope('mmseg')
    ds = DATASETS.build(
        dict(
            type='CamVidDataset',
            data_root=root,
            data_prefix=dict(img_path='train', seg_map_path='trainannot'),
            pipeline=cfg.tta_pipeline))
    out = ds[0]
    # 6 scales x 2 flips, each with its ground truth
    assert len(out['inputs']) == 12 and len(out['data_samples']) == 12
    with pytest.raises(ValueError) as err:
        ds[1]
    assert '0001TP_000001.png' in str(err.value)
    assert '[12]' in str(err.value)
