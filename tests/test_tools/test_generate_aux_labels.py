"""tools/generate_aux_labels.py on a tiny CamVid with a tiny segmentor as
the extractor (feat and pred modes), then tools/eval_aux_labels.py on its
output; the same seed gives the same labels."""
import json
import os
import os.path as osp
import subprocess

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import cp2_mmseg  # noqa: F401

from ..conftest import PYTHON, REPO, write_camvid

DATA_CFG = osp.join(REPO, 'configs/deeplabv3/deeplabv3_r50-d8_4xb4-20k_camvid-360x480.py')
BN = dict(type='BN', requires_grad=True)
EXTRACTOR = dict(
    default_scope='mmseg',
    custom_imports=dict(imports=['cp2_mmseg'], allow_failed_imports=False),
    model=dict(
        type='EncoderDecoder',
        data_preprocessor=dict(
            type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
        backbone=dict(type='ResNetV1c', depth=18, base_channels=8,
                      out_indices=(0, 1, 2, 3), strides=(1, 2, 1, 1),
                      dilations=(1, 1, 2, 4), norm_cfg=BN),
        decode_head=dict(type='ASPPHead', in_channels=64, in_index=3,
                         channels=16, dilations=(1, 2), num_classes=11,
                         norm_cfg=BN),
        train_cfg=dict(), test_cfg=dict(mode='whole')))


def _extractor(tmp_path):
    cfg = Config(EXTRACTOR)
    path = str(tmp_path / 'extractor.py')
    cfg.dump(path)
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    ckpt = str(tmp_path / 'extractor.pth')
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    return path, ckpt


def _split(root, img='train', ann='trainannot', with_gt=False):
    """One CamVid split as an mmseg data set loading the image (and the
    ground truth)."""
    from mmengine.registry import DATASETS
    init_default_scope('mmseg')
    pipeline = [dict(type='LoadImageFromFile')] + (
        [dict(type='LoadAnnotations')] if with_gt else [])
    return DATASETS.build(dict(
        type='CamVidDataset', data_root=root,
        data_prefix=dict(img_path=img, seg_map_path=ann), pipeline=pipeline))


def test_generate_then_eval(tmp_path):
    root = write_camvid(str(tmp_path / 'camvid'), size=(48, 64))
    cfg, ckpt = _extractor(tmp_path)
    out = str(tmp_path / 'aux')
    cmd = [PYTHON, 'tools/generate_aux_labels.py', DATA_CFG, cfg, out,
           '--checkpoint', ckpt, '--k', '4', '--splits', 'train', 'val',
           '--cfg-options', f'train_dataloader.dataset.data_root={root}',
           f'val_dataloader.dataset.data_root={root}']
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    meta = json.load(open(osp.join(out, 'meta.json')))
    assert meta['images'] == 6 and meta['k'] == 4 and meta['mode'] == 'feat'
    assert len(meta['checkpoint_sha256']) == 64
    assert np.load(osp.join(out, 'centroids.npy')).shape == (4, 16)
    assert osp.isfile(osp.join(out, 'preview.png'))
    for split in ('train', 'val'):
        for name in os.listdir(osp.join(root, split)):
            lab = cv2.imread(osp.join(out, name), cv2.IMREAD_UNCHANGED)
            assert lab.shape == (48, 64) and lab.dtype == np.uint8
            assert set(np.unique(lab).tolist()) <= set(range(4)) | {255}
    assert 0 < meta['ignored_share'] < 0.25
    assert sum(meta['label_counts']) > 0
    proc = subprocess.run(
        [PYTHON, 'tools/eval_aux_labels.py', DATA_CFG, out, '--out',
         str(tmp_path / 's.json'), '--cfg-options',
         f'train_dataloader.dataset.data_root={root}'],
        cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    scores = json.load(open(str(tmp_path / 's.json')))['scores']
    assert 0 <= scores['aux/q'] <= 1 and 0 < scores['aux/coverage'] <= 1


def test_same_seed_same_labels_and_pred_mode(tmp_path):
    from cp2_mmseg.aux_labels import FeatureExtractor, generate_aux_labels
    root = write_camvid(str(tmp_path / 'camvid'), size=(48, 64))
    cfg, ckpt = _extractor(tmp_path)
    ds = _split(root, with_gt=True)
    ext = FeatureExtractor(cfg, ckpt, mode='feat')
    maps = []
    for run in range(2):
        out = str(tmp_path / f'run{run}')
        generate_aux_labels(ext, ds, out, k=3, seed=7, n_init=1)
        maps.append([cv2.imread(osp.join(out, n), cv2.IMREAD_UNCHANGED)
                     for n in sorted(os.listdir(osp.join(root, 'train')))])
    assert all(np.array_equal(a, b) for a, b in zip(*maps))
    meta = generate_aux_labels(FeatureExtractor(cfg, ckpt, mode='pred'), ds,
                               str(tmp_path / 'pred'), outlier_ratio=0.1)
    assert meta['k'] == 11 and 0.05 < meta['ignored_share'] < 0.2


def test_several_settings_equal_single_runs(tmp_path):
    """--k 3 5 --outlier-ratio 0 0.1: four folders from one extraction,
    each identical to the single-setting run."""
    root = write_camvid(str(tmp_path / 'camvid'), size=(48, 64))
    cfg, ckpt = _extractor(tmp_path)
    base = [PYTHON, 'tools/generate_aux_labels.py', DATA_CFG, cfg]
    opts = ['--checkpoint', ckpt, '--n-init', '1', '--cfg-options',
            f'train_dataloader.dataset.data_root={root}']
    grid = str(tmp_path / 'grid')
    proc = subprocess.run(base + [grid, '--k', '3', '5', '--outlier-ratio',
                                  '0', '0.1'] + opts,
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(os.listdir(grid)) == ['k3_o0', 'k3_o0.1', 'k5_o0',
                                        'k5_o0.1']
    one = str(tmp_path / 'one')
    proc = subprocess.run(base + [one, '--k', '5', '--outlier-ratio', '0.1']
                          + opts, cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    names = sorted(os.listdir(osp.join(root, 'train')))
    for name in names:
        a = cv2.imread(osp.join(grid, 'k5_o0.1', name), cv2.IMREAD_UNCHANGED)
        b = cv2.imread(osp.join(one, name), cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(a, b)
    metas = {d: json.load(open(osp.join(grid, d, 'meta.json')))
             for d in os.listdir(grid)}
    assert metas['k3_o0']['ignored_share'] == 0
    assert metas['k5_o0.1']['k'] == 5 and \
        0.05 < metas['k5_o0.1']['ignored_share'] < 0.2


def test_input_scale_keeps_the_label_geometry(tmp_path):
    """A half-scale extractor: labels at the image size, and pred mode
    equals running the model on the resized image."""
    import torch.nn.functional as F
    from cp2_mmseg.aux_labels import FeatureExtractor, generate_aux_labels
    root = write_camvid(str(tmp_path / 'camvid'), size=(48, 64))
    cfg, ckpt = _extractor(tmp_path)
    ds = _split(root)
    ext = FeatureExtractor(cfg, ckpt, mode='pred', input_scale=0.5)
    meta = generate_aux_labels(ext, ds, str(tmp_path / 'p'),
                               outlier_ratio=0.0)
    assert meta['input_scale'] == 0.5
    name = sorted(os.listdir(osp.join(root, 'train')))[0]
    lab = cv2.imread(str(tmp_path / 'p' / name), cv2.IMREAD_UNCHANGED)
    assert lab.shape == (48, 64)
    full = FeatureExtractor(cfg, ckpt, mode='pred')
    x = full.preprocess([torch.from_numpy(np.ascontiguousarray(
        cv2.imread(osp.join(root, 'train', name)).transpose(2, 0, 1)))])
    small = F.interpolate(x, scale_factor=0.5, mode='bilinear',
                          align_corners=False)
    logits = full.model.decode_head.forward(full.model.extract_feat(small))
    ref = F.interpolate(logits, (48, 64), mode='bilinear',
                        align_corners=False).argmax(1)[0].numpy()
    np.testing.assert_array_equal(lab, ref)


def test_dbscan_setting_labels_by_nearest_core_point(tmp_path):
    """A DBSCAN setting beside a K-means one: its labels are the saved core
    points' clusters within eps (noise = ignore), at the label stride."""
    import torch.nn.functional as F
    from cp2_mmseg.aux_labels import (FeatureExtractor, dbscan_assign,
                                      features_at, generate_aux_label_sets)
    root = write_camvid(str(tmp_path / 'camvid'), size=(48, 64))
    cfg, ckpt = _extractor(tmp_path)
    ds = _split(root)
    ext = FeatureExtractor(cfg, ckpt, mode='feat')

    def flat(i):
        x = ext.preprocess([torch.from_numpy(np.ascontiguousarray(
            cv2.imread(ds[i]['img_path']).transpose(2, 0, 1)))])
        return features_at(ext(x), (12, 16))[0].flatten(1).t()

    feats = torch.cat([flat(i) for i in range(len(ds))])
    d = torch.cdist(feats, feats)
    eps = float(d.kthvalue(6, dim=1)[0].quantile(0.5))  # a mid density
    metas = generate_aux_label_sets(
        ext, ds, str(tmp_path / 'aux'), ks=[3], dbscan_eps=[eps],
        dbscan_min_samples=5, dbscan_samples=100000)
    meta = [m for m in metas if m['clustering'] == 'dbscan'][0]
    assert meta['setting'] == f'dbscan_e{eps:g}_m5'
    out = tmp_path / 'aux' / meta['setting']
    assert sorted(os.listdir(tmp_path / 'aux')) == sorted(
        ['k3_o0.05', meta['setting']])
    assert meta['dbscan_sample'] == meta['fit_sample']  # all of it
    core_pts = torch.from_numpy(np.load(out / 'core_points.npy'))
    core_lab = torch.from_numpy(np.load(out / 'core_labels.npy'))
    assert 2 <= meta['k'] == int(core_lab.max()) + 1
    assert 0 < meta['ignored_share'] < 1
    for i in range(len(ds)):
        lab = dbscan_assign(flat(i), core_pts, core_lab, eps)
        lab[lab < 0] = 255
        ref = F.interpolate(lab.reshape(1, 1, 12, 16).float(), (48, 64),
                            mode='nearest')[0, 0].numpy()
        name = osp.basename(ds[i]['img_path'])
        got = cv2.imread(str(out / name), cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(got, ref)


def test_two_processes_write_what_one_writes(tmp_path):
    """torchrun with 2 gloo processes (each a block of the images): the
    same centroids, label files and counts as one process."""
    root = write_camvid(str(tmp_path / 'camvid'), size=(48, 64))
    cfg, ckpt = _extractor(tmp_path)
    args = [DATA_CFG, cfg, None, '--checkpoint', ckpt, '--k', '3', '5',
            '--outlier-ratio', '0.1', '--dbscan-eps', '0.3',
            '--dbscan-min-samples', '4', '--splits', 'train', 'val',
            '--cfg-options', f'train_dataloader.dataset.data_root={root}',
            f'val_dataloader.dataset.data_root={root}']
    outs = {}
    for procs in (1, 2):
        out = str(tmp_path / f'p{procs}')
        a = [out if x is None else x for x in args]
        cmd = [PYTHON, 'tools/generate_aux_labels.py'] + a if procs == 1 \
            else [PYTHON, '-m', 'torch.distributed.run', '--nproc_per_node',
                  '2', '--master_port', '29613',
                  'tools/generate_aux_labels.py'] + a + ['--launcher',
                                                         'pytorch']
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True,
                              env=dict(os.environ, OMP_NUM_THREADS='1'))
        assert proc.returncode == 0, proc.stderr[-3000:]
        outs[procs] = out
    for setting in ('k3_o0.1', 'k5_o0.1', 'dbscan_e0.3_m4'):
        m1, m2 = (json.load(open(osp.join(outs[p], setting, 'meta.json')))
                  for p in (1, 2))
        assert (m1['processes'], m2['processes']) == (1, 2)
        for key in ('k', 'label_counts', 'ignored_pixels', 'fit_sample'):
            assert m1[key] == m2[key], (setting, key)
        if setting.startswith('k'):
            np.testing.assert_allclose(
                np.load(osp.join(outs[1], setting, 'centroids.npy')),
                np.load(osp.join(outs[2], setting, 'centroids.npy')),
                atol=1e-6)
        for split in ('train', 'val'):
            for name in os.listdir(osp.join(root, split)):
                a, b = (cv2.imread(osp.join(outs[p], setting, name),
                                   cv2.IMREAD_UNCHANGED) for p in (1, 2))
                np.testing.assert_array_equal(a, b)


def test_cp2_extractor_takes_images_as_one_view(tmp_path):
    """A CP2 checkpoint as the extractor: its self-supervised preprocessor
    gets the image as one view (a stacked batch), normalised like the
    model's training input."""
    from cp2_mmseg.aux_labels import FeatureExtractor
    from ..test_models.test_selfsup.test_cp2 import tiny_cfg
    path = str(tmp_path / 'cp2.py')
    Config(dict(default_scope='mmseg', model=tiny_cfg())).dump(path)
    ext = FeatureExtractor(path, None, mode='feat')
    img = torch.randint(0, 255, (3, 40, 56), dtype=torch.uint8)
    x = ext.preprocess([img])
    assert x.shape == (1, 3, 40, 56)
    pre = ext.model.data_preprocessor
    ref = (img.flip(0).float() - pre.mean) / pre.std  # BGR -> RGB
    torch.testing.assert_close(x[0], ref)
    f = ext(x)
    assert f.shape == (1, 16, 3, 4)  # output stride 16


def test_two_images_with_one_label_name_are_an_error(tmp_path):
    """Labels are named by the image file name: a name in two splits would
    be overwritten silently, so it is an error naming both files; the same
    image listed twice is labelled once."""
    from mmengine.dataset import ConcatDataset
    from cp2_mmseg.aux_labels.generate import duplicate_images
    root = write_camvid(str(tmp_path / 'camvid'), size=(24, 32))
    train = _split(root)
    assert duplicate_images(ConcatDataset([train, _split(root, 'val',
                                                         'valannot')
                                           ])) == set()
    assert duplicate_images(ConcatDataset([train, train])) == {4, 5, 6, 7}
    for d in ('val', 'valannot'):
        os.rename(osp.join(root, d, '0016E5_000000.png'),
                  osp.join(root, d, '0001TP_000000.png'))
    with pytest.raises(ValueError, match=r'train/0001TP_000000.png and .*'
                       r'val/0001TP_000000.png'):
        duplicate_images(ConcatDataset([train, _split(root, 'val',
                                                      'valannot')]))
