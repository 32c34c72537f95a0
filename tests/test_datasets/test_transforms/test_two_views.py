import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

import cp2_mmseg  # noqa: F401

H, W = 40, 48


def _coded_image(tmp_path):
    """An image whose channels are ramps of y and x, a label and an
    auxiliary label that are functions of (y, x), written to files."""
    ys, xs = np.meshgrid(np.arange(H), np.arange(W), indexing='ij')
    img = np.stack([ys * 4, xs * 4, np.full_like(ys, 128)], 2)
    img = img.astype(np.uint8)
    lbl = ((ys // 5) * 3 + xs // 7) % 11
    aux = (ys * 7 + xs * 3) % 50
    cv2.imwrite(osp.join(tmp_path, 'a.png'), img)
    cv2.imwrite(osp.join(tmp_path, 'lbl.png'), lbl.astype(np.uint8))
    aux_dir = osp.join(tmp_path, 'aux')
    import os
    os.makedirs(aux_dir, exist_ok=True)
    cv2.imwrite(osp.join(aux_dir, 'a.png'), aux.astype(np.uint8))
    return img, lbl, aux, aux_dir


def _pipeline(aux_dir, view_pipeline):
    from mmcv.transforms import Compose
    return Compose([
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='LoadAuxLabel', aux_root=aux_dir, num_aux=50),
        dict(type='AddSourceCoords'),
        dict(type='TwoViews', view_pipeline=view_pipeline)
    ])


VIEW_PIPELINES = {
    'resize':
    [dict(type='RandomResize', scale=(W, H), ratio_range=(0.5, 2.0),
          keep_ratio=True)],
    'crop': [dict(type='RandomCrop', crop_size=(17, 23))],
    'flip': [dict(type='RandomFlip', prob=1.0)],
    'resize_crop_flip': [
        dict(type='RandomResize', scale=(W, H), ratio_range=(0.5, 2.0),
             keep_ratio=True),
        dict(type='RandomCrop', crop_size=(30, 30)),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PhotoMetricDistortion')
    ],
}


@pytest.mark.parametrize('name', list(VIEW_PIPELINES))
def test_maps_stay_aligned_with_the_image(tmp_path, name):
    """After the stock mmseg resize / crop / flip, every pixel's source
    coordinates point at the source pixel its label, auxiliary label and
    (up to interpolation) image value come from."""
    init_default_scope('mmseg')
    img, lbl, aux, aux_dir = _coded_image(str(tmp_path))
    pipe = _pipeline(
        aux_dir, VIEW_PIPELINES[name] + [dict(type='PackAuxSegInputs')])
    for seed in range(6):
        np.random.seed(seed)
        out = pipe(dict(img_path=osp.join(tmp_path, 'a.png'),
                        seg_map_path=osp.join(tmp_path, 'lbl.png'),
                        reduce_zero_label=False, seg_fields=[]))
        assert len(out['inputs']) == 2
        for x, s in zip(out['inputs'], out['data_samples']):
            coord = s.gt_src_coord.data.long()
            y, xx = coord[0].numpy(), coord[1].numpy()
            assert (y >= 0).all() and (y < H).all() and (xx < W).all()
            np.testing.assert_array_equal(s.gt_aux_label.data[0].numpy(),
                                          aux[y, xx])
            np.testing.assert_array_equal(s.gt_sem_seg.data[0].numpy(),
                                          lbl[y, xx])
            if name != 'resize_crop_flip':  # no photometric change
                view = x.numpy().astype(np.float32)
                # bilinear image vs nearest maps: within a source pixel
                assert np.abs(view[0] - 4 * y).max() <= 8
                assert np.abs(view[1] - 4 * xx).max() <= 8
            assert s.gt_src_coord.shape == tuple(x.shape[1:])


def test_views_are_independent_and_unlabelled_images_work(tmp_path):
    init_default_scope('mmseg')
    from mmcv.transforms import Compose
    img, lbl, aux, aux_dir = _coded_image(str(tmp_path))
    pipe = Compose([
        dict(type='LoadImageFromFile'),
        dict(type='LoadAuxLabel', aux_root=aux_dir),
        dict(type='AddSourceCoords'),
        dict(type='TwoViews', view_pipeline=[
            dict(type='RandomCrop', crop_size=(20, 20)),
            dict(type='PackAuxSegInputs')])
    ])
    np.random.seed(0)
    out = pipe(dict(img_path=osp.join(tmp_path, 'a.png'), seg_fields=[]))
    a, b = out['data_samples']
    assert 'gt_sem_seg' not in a
    assert not torch.equal(a.gt_src_coord.data, b.gt_src_coord.data)


def test_preprocessor_flattens_views_and_pads_the_maps():
    init_default_scope('mmseg')
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    from cp2_mmseg.models.data_preprocessors import AuxViewDataPreProcessor
    pre = AuxViewDataPreProcessor(mean=[0, 0, 0], std=[1, 1, 1],
                                  size=(6, 7), seg_pad_val=255)

    def sample(h, w, tag):
        s = SegDataSample()
        s.gt_aux_label = PixelData(data=torch.full((1, h, w), tag))
        s.gt_src_coord = PixelData(data=torch.full((2, h, w), float(tag)))
        s.set_metainfo(dict(tag=tag))
        return s

    from mmengine.dataset import pseudo_collate

    # what the loader gives: pseudo_collate of two TwoViews outputs
    data = pseudo_collate([
        dict(inputs=[torch.zeros(3, 6, 7), torch.ones(3, 4, 5)],
             data_samples=[sample(6, 7, 0), sample(4, 5, 1)]),
        dict(inputs=[torch.full((3, 6, 7), 2.), torch.full((3, 5, 7), 3.)],
             data_samples=[sample(6, 7, 2), sample(5, 7, 3)])
    ])
    out = pre(data, training=True)
    assert out['inputs'].shape == (4, 3, 6, 7)
    # view-major: sample 0 view 0, sample 1 view 0, sample 0 view 1, ...
    tags = [s.metainfo['tag'] for s in out['data_samples']]
    assert tags == [0, 2, 1, 3]
    assert [s.metainfo['view'] for s in out['data_samples']] == [0, 0, 1, 1]
    assert [s.metainfo['view_group']
            for s in out['data_samples']] == [0, 1, 0, 1]
    s = out['data_samples'][2]  # 4 x 5 padded to 6 x 7
    assert s.gt_aux_label.data.shape == (1, 6, 7)
    assert (s.gt_aux_label.data[:, 4:] == 255).all()
    assert (s.gt_aux_label.data[:, :, 5:] == 255).all()
    assert (s.gt_src_coord.data[:, :4, :5] == 1).all()
    assert (s.gt_src_coord.data[:, 4:] == -1).all()
    assert (s.gt_src_coord.data[:, :, 5:] == -1).all()
    assert out['inputs'][2].sum() == 3 * 4 * 5  # sample 0's second view
    with pytest.raises(ValueError, match='collated output of TwoViews'):
        pre(dict(inputs=[[torch.zeros(3, 6, 7)]],
                 data_samples=[[sample(6, 7, 0)]]), training=True)
