import random

import numpy as np
import pytest
from mmengine.registry import init_default_scope

import cp2_mmseg  # noqa: F401
from cp2_mmseg.datasets import CopyPasteDataset
from cp2_mmseg.datasets.transforms import (CopyPaste, MOCO_V2_VIEW,
                                           PackCopyPasteInputs)

# geometry only, so pixel identities can be checked exactly
VIEW = [
    dict(type='RandomResizedCrop', scale=48, crop_ratio_range=(0.2, 1.),
         backend='pillow'),
    dict(type='RandomFlip', prob=0.5)
]


def solid(value, size=(40, 60)):
    img = np.zeros(size + (3, ), np.uint8)
    img[..., 0] = value
    img[..., 1] = np.arange(size[1])[None] % 7  # texture along columns
    img[..., 2] = np.arange(size[0])[:, None] % 5  # and along rows
    return img


def results():
    return dict(
        img=solid(200),
        sample_idx=0,
        mix_results=[dict(img=solid(50)), dict(img=solid(100))])


def test_masks_are_the_pasted_rectangles():
    init_default_scope('mmseg')
    np.random.seed(0)
    t = CopyPaste(view_pipeline=VIEW)
    for _ in range(20):
        out = t(results())
        for comp, mask, (top, left, h, w), view, bg_val in zip(
                out['img'], out['paste_masks'], out['paste_boxes'],
                out['fg_views'], (50, 100)):
            assert comp.shape == (48, 48, 3)
            box = np.zeros_like(mask)
            box[top:top + h, left:left + w] = 1
            assert np.array_equal(mask, box)
            m = mask.astype(bool)
            assert np.array_equal(comp[m], view[m])  # pasted = fg view
            # the rest is background (first channel 50 or 100, never 200)
            assert (comp[~m][:, 0] == bg_val).all()
            area = h * w / 48**2
            assert 0.5 - 0.03 <= area <= 0.8 + 0.03
            assert 0.8 - 0.05 <= h / w <= 1.25 + 0.05


def test_views_differ_and_deterministic():
    init_default_scope('mmseg')
    t = CopyPaste()  # MoCo v2 views, 224
    # seeded as mmengine seeds (mmcv's RandomGrayscale uses `random`)
    random.seed(3)
    np.random.seed(3)
    a = t(results())
    random.seed(3)
    np.random.seed(3)
    b = t(results())
    for x, y in zip(a['img'], b['img']):
        assert np.array_equal(x, y)
    assert a['img'][0].shape == (224, 224, 3)
    assert a['paste_boxes'][0] != a['paste_boxes'][1] or not np.array_equal(
        a['fg_views'][0], a['fg_views'][1])
    assert len(MOCO_V2_VIEW) == 5


def test_boxes_and_foreground_views_independent():
    """The query and key composites get their own rectangle and their own
    augmentation of the foreground (official: two RandomErasing draws, two
    MoCo views); no pixel correspondence is kept."""
    init_default_scope('mmseg')
    np.random.seed(1)
    random.seed(1)
    t = CopyPaste(view_pipeline=VIEW)
    outs = [t(results()) for _ in range(20)]
    same_box = sum(o['paste_boxes'][0] == o['paste_boxes'][1] for o in outs)
    same_view = sum(
        np.array_equal(o['fg_views'][0], o['fg_views'][1]) for o in outs)
    assert same_box <= 2 and same_view <= 2, (same_box, same_view)


def test_needs_backgrounds():
    init_default_scope('mmseg')
    with pytest.raises(KeyError, match='CopyPasteDataset'):
        CopyPaste(view_pipeline=VIEW)(dict(img=solid(1)))


def test_pack():
    init_default_scope('mmseg')
    np.random.seed(0)
    out = PackCopyPasteInputs()(CopyPaste(view_pipeline=VIEW)(results()))
    assert [i.shape for i in out['inputs']] == [(3, 48, 48)] * 2
    assert out['data_samples'].paste_masks.shape == (2, 48, 48)
    assert out['data_samples'].sample_idx == 0


def test_dataset_backgrounds_uniform_and_never_foreground(camvid_root):
    init_default_scope('mmseg')
    ds = CopyPasteDataset(
        dataset=dict(
            type='CamVidDataset',
            data_root=camvid_root,
            data_prefix=dict(img_path='train', seg_map_path='trainannot'),
            pipeline=[dict(type='LoadImageFromFile')]),
        pipeline=[dict(type='CopyPaste', view_pipeline=VIEW),
                  dict(type='PackCopyPasteInputs')])
    np.random.seed(0)
    counts = np.zeros(4)
    for _ in range(2000):
        for j in ds.background_indices(1):
            assert j != 1
            counts[j] += 1
    assert counts[1] == 0
    assert (np.abs(counts[[0, 2, 3]] / 4000 - 1 / 3) < 0.03).all()
    item = ds[2]
    assert 2 not in item['data_samples'].bg_indices
    assert item['data_samples'].paste_masks.any()
