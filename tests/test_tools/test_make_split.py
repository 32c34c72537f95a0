"""tools/make_split.py: deterministic subsets written as split files the
stock data sets read back (CamVid, Cityscapes 'city/stem' lines, the VOC-aug
ConcatDataset), and class-balanced subsets that contain a rare class."""
import os
import os.path as osp
import subprocess

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

import cp2_mmseg  # noqa: F401

from ..conftest import PYTHON, REPO, write_camvid

CAMVID_CFG = osp.join(REPO, 'configs', 'deeplabv3',
                      'deeplabv3_r50-d8_4xb4-20k_camvid-360x480.py')
CITY_CFG = osp.join(REPO, 'configs', 'deeplabv3',
                    'deeplabv3_r50-d8_4xb2-40k_cityscapes-512x1024.py')
VOC_CFG = osp.join(REPO, 'configs', 'deeplabv3',
                   'deeplabv3_r50-d8_4xb4-20k_voc12aug-512x512.py')


def _run(*args):
    proc = subprocess.run([PYTHON, 'tools/make_split.py', *args], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def _lines(path):
    return [line.strip() for line in open(path)]


def _stems(ds):
    """The sorted file stems of a built data set's images."""
    return sorted(osp.splitext(osp.basename(ds.get_data_info(i)['img_path']))
                  [0] for i in range(len(ds)))


def test_camvid_fraction_count_seed(tmp_path):
    root = write_camvid(str(tmp_path / 'camvid'), n_per_split=(16, 1, 1))
    opt = ['--cfg-options', f'train_dataloader.dataset.data_root={root}']
    _run(CAMVID_CFG, '--fraction', '1/4', *opt)
    a = _lines(osp.join(root, 'splits', 'train_1-4.txt'))
    assert len(a) == 4 and len(set(a)) == 4
    _run(CAMVID_CFG, '--fraction', '0.25', '--out', str(tmp_path / 'b.txt'),
         *opt)
    assert _lines(str(tmp_path / 'b.txt')) == a  # same seed, same subset
    _run(CAMVID_CFG, '--fraction', '1/4', '--seed', '1', *opt)
    c = _lines(osp.join(root, 'splits', 'train_1-4_seed1.txt'))
    assert c != a
    _run(CAMVID_CFG, '--count', '5', *opt)
    assert len(_lines(osp.join(root, 'splits', 'train_5.txt'))) == 5
    # the stock data set reads the split back
    init_default_scope('mmseg')
    cfg = Config.fromfile(CAMVID_CFG)
    ds = DATASETS.build(dict(cfg.train_dataloader.dataset, data_root=root,
                             ann_file='splits/train_1-4.txt', pipeline=[]))
    got = _stems(ds)
    assert got == sorted(a)


def test_balanced_covers_a_rare_class(tmp_path):
    root = write_camvid(str(tmp_path / 'camvid'), n_per_split=(20, 1, 1))
    ann = osp.join(root, 'trainannot')
    names = sorted(os.listdir(ann))
    for i, name in enumerate(names):  # classes 0..9 only, 10 in one image
        lbl = np.full((24, 32), i % 10, np.uint8)
        if i == 13:
            lbl[:4, :4] = 10
        cv2.imwrite(osp.join(ann, name), lbl)
    opt = ['--cfg-options', f'train_dataloader.dataset.data_root={root}']
    hits = 0
    for seed in range(5):
        out = str(tmp_path / f'u{seed}.txt')
        _run(CAMVID_CFG, '--count', '3', '--seed', str(seed), '--out', out,
             *opt)
        hits += osp.splitext(names[13])[0] in _lines(out)
        out = str(tmp_path / f'b{seed}.txt')
        msg = _run(CAMVID_CFG, '--count', '3', '--seed', str(seed),
                   '--balanced', '--out', out, *opt)
        assert osp.splitext(names[13])[0] in _lines(out)
        assert 'classes missing' in msg  # 3 images cannot hold 11 classes
    assert hits < 5  # uniform draws miss it


def _write_cityscapes(root):
    rng = np.random.default_rng(0)
    for city in ('aachen', 'bochum'):
        for i in range(3):
            stem = f'{city}_{i:06d}_000019'
            img_dir = osp.join(root, 'leftImg8bit', 'train', city)
            gt_dir = osp.join(root, 'gtFine', 'train', city)
            os.makedirs(img_dir, exist_ok=True)
            os.makedirs(gt_dir, exist_ok=True)
            cv2.imwrite(osp.join(img_dir, stem + '_leftImg8bit.png'),
                        rng.integers(0, 255, (8, 16, 3), dtype=np.uint8))
            cv2.imwrite(osp.join(gt_dir, stem + '_gtFine_labelTrainIds.png'),
                        rng.integers(0, 19, (8, 16), dtype=np.uint8))


def test_cityscapes_city_stem_lines(tmp_path):
    root = str(tmp_path / 'cityscapes')
    _write_cityscapes(root)
    _run(CITY_CFG, '--fraction', '1/2', '--cfg-options',
         f'train_dataloader.dataset.data_root={root}')
    lines = _lines(osp.join(root, 'splits', 'train_1-2.txt'))
    assert len(lines) == 3
    assert all(line.split('/')[0] in ('aachen', 'bochum') and
               line.endswith('_000019') for line in lines)
    init_default_scope('mmseg')
    cfg = Config.fromfile(osp.join(
        REPO, 'configs', 'deeplabv3',
        'deeplabv3_r50-d8_4xb2-40k_cityscapes-1-2-512x1024.py'))
    ds = DATASETS.build(dict(cfg.train_dataloader.dataset, data_root=root,
                             pipeline=[]))
    assert len(ds) == 3 and all(osp.isfile(ds.get_data_info(i)['seg_map_path'])
                                for i in range(3))


def test_voc_aug_concat_union_and_split_config(tmp_path):
    root = str(tmp_path / 'VOC2012')
    rng = np.random.default_rng(0)
    for d in ('JPEGImages', 'SegmentationClass', 'SegmentationClassAug',
              'ImageSets/Segmentation'):
        os.makedirs(osp.join(root, d), exist_ok=True)
    train = [f'2007_{i:06d}' for i in range(4)]
    aug = [f'2008_{i:06d}' for i in range(5)] + train[:2]  # overlaps
    for stem in set(train + aug):
        cv2.imwrite(osp.join(root, 'JPEGImages', stem + '.jpg'),
                    rng.integers(0, 255, (8, 8, 3), dtype=np.uint8))
        for d in ('SegmentationClass', 'SegmentationClassAug'):
            cv2.imwrite(osp.join(root, d, stem + '.png'),
                        rng.integers(0, 21, (8, 8), dtype=np.uint8))
    for name, stems in (('train', train), ('aug', aug)):
        with open(osp.join(root, 'ImageSets/Segmentation', name + '.txt'),
                  'w') as f:
            f.writelines(s + '\n' for s in stems)
    opt = [f'train_dataloader.dataset.datasets.{i}.data_root={root}'
           for i in range(2)]
    msg = _run(VOC_CFG, '--count', '9', '--cfg-options', *opt)
    assert 'of 9 training images' in msg  # 4 + 7 listed, 9 distinct
    # candidates from VOC train only, as the 92..1464 configs describe
    _run(VOC_CFG, '--count', '2', '--cfg-options', *opt,
         'train_dataloader.dataset.datasets.1.ann_file='
         'ImageSets/Segmentation/train.txt')
    lines = _lines(osp.join(root, 'splits', 'train_2.txt'))
    assert len(lines) == 2 and set(lines) <= set(train)
    os.rename(osp.join(root, 'splits', 'train_2.txt'),
              osp.join(root, 'splits', 'train_92.txt'))
    init_default_scope('mmseg')
    cfg = Config.fromfile(osp.join(
        REPO, 'configs', 'deeplabv3',
        'deeplabv3_r50-d8_4xb4-20k_voc12aug-92-512x512.py'))
    ds = DATASETS.build(dict(cfg.train_dataloader.dataset, data_root=root))
    assert len(ds) == 2
    item = ds[0]
    assert item['data_samples'].gt_sem_seg.data.shape[-2:] == (512, 512)


@pytest.mark.parametrize('denominator', [8, 4, 2])
def test_camvid_regime_configs_read_the_split_make_split_writes(
        tmp_path, denominator):
    """configs/deeplabv3/*camvid-1-N-*: the stock data set of the regime
    config reads back exactly the subset ``--fraction 1/N`` wrote."""
    root = write_camvid(str(tmp_path / 'camvid'), n_per_split=(16, 1, 1))
    _run(CAMVID_CFG, '--fraction', f'1/{denominator}', '--cfg-options',
         f'train_dataloader.dataset.data_root={root}')
    written = _lines(osp.join(root, 'splits', f'train_1-{denominator}.txt'))
    regime = CAMVID_CFG.replace('camvid-', f'camvid-1-{denominator}-')
    init_default_scope('mmseg')
    cfg = Config.fromfile(regime)
    ds = DATASETS.build(dict(cfg.train_dataloader.dataset, data_root=root,
                             pipeline=[]))
    got = _stems(ds)
    assert got == sorted(written) and len(got) == 16 // denominator
