"""The auxiliary-label method end to end on a tiny CamVid: the real stage-1
and joint configs, their data pipelines, one training step, and stage 2
loading stage 1 with only the projection dropped."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.model.utils import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmseg.registry import DATASETS, MODELS

import cp2_mmseg  # noqa: F401
from cp2_mmseg.utils import set_transform_options

from ...conftest import REPO, write_camvid

CFG_DIR = osp.join(REPO, 'configs', 'beyond_single')
PRETRAIN = osp.join(CFG_DIR,
                    'deeplabv3-auxcon-pretrain_r18-d16_1xb8-500iter_camvid-'
                    '180x240.py')
JOINT = osp.join(CFG_DIR,
                 'deeplabv3-auxcon-joint_r18-d16_1xb8-2k_camvid-1-8-'
                 '180x240.py')
FINETUNE = osp.join(CFG_DIR, 'deeplabv3_r18-d16_1xb8-2k_camvid-1-8-180x240_'
                    'auxcon-finetune.py')
K = 6


@pytest.fixture
def tiny(tmp_path):
    root = write_camvid(str(tmp_path / 'camvid'), size=(48, 64))
    aux_dir = str(tmp_path / 'aux')
    os.makedirs(aux_dir)
    rng = np.random.default_rng(0)
    for name in os.listdir(osp.join(root, 'train')):
        aux = rng.integers(0, K, (48, 64)).astype(np.uint8)
        aux[:4] = 255
        cv2.imwrite(osp.join(aux_dir, name), aux)
    return root, aux_dir


def _cfg(path, root, aux_dir):
    cfg = Config.fromfile(path)
    cfg.train_dataloader.dataset.data_root = root
    cfg.train_dataloader.dataset.ann_file = ''
    set_transform_options(
        cfg, {
            'LoadAuxLabel.aux_root': aux_dir,
            'LoadAuxLabel.num_aux': K,
            'RandomResize.scale': (64, 48),
            'RandomCrop.crop_size': (32, 48)
        })
    cfg.model.data_preprocessor.size = (32, 48)
    cfg.model.loss_aux_contrast.num_aux = K
    return cfg


def _step(cfg):
    init_default_scope('mmseg')
    torch.manual_seed(0)
    np.random.seed(0)
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    model.train()
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    data = pseudo_collate([dataset[0], dataset[1], dataset[2]])
    data = model.data_preprocessor(data, True)
    assert data['inputs'].shape == (6, 3, 32, 48)  # 3 samples x 2 views
    # view-major: row i and row 3 + i are the two views of sample i
    meta = [(s.img_path, s.view, s.view_group) for s in data['data_samples']]
    paths = [osp.basename(dataset.get_data_info(i)['img_path'])
             for i in range(3)]
    assert [(osp.basename(p), v, g) for p, v, g in meta] == \
        [(paths[i], 0, i) for i in range(3)] + \
        [(paths[i], 1, i) for i in range(3)]
    losses = model(**data, mode='loss')
    sum(losses.values()).backward()
    return model, losses


def test_pretrain_config_steps_with_the_contrast_only(tiny):
    root, aux_dir = tiny
    cfg = _cfg(PRETRAIN, root, aux_dir)
    assert cfg.find_unused_parameters and cfg.get('val_cfg') is None
    assert cfg.model.loss_aux_contrast.view_positives
    # Zhao et al.'s temperature (the paper's is unknown), 1024 anchors
    assert cfg.model.loss_aux_contrast.temperature == 0.07
    assert cfg.model.loss_aux_contrast.max_anchors == 1024
    model, losses = _step(cfg)
    assert list(losses) == ['contrast.loss_aux_contrast']
    assert losses['contrast.loss_aux_contrast'] > 0
    assert next(model.backbone.parameters()).grad.abs().sum() > 0
    assert model.decode_head.conv_seg.weight.grad is None
    # inference is the stock model's
    model.eval()
    with torch.no_grad():
        out = model(torch.zeros(1, 3, 32, 48), mode='tensor')
    assert out.shape == (1, 11, 2, 3)  # stock: logits at 1/16


def test_joint_config_adds_cross_entropy(tiny):
    root, aux_dir = tiny
    cfg = _cfg(JOINT, root, aux_dir)
    model, losses = _step(cfg)
    assert set(losses) >= {'contrast.loss_aux_contrast', 'decode.loss_ce'}
    assert model.decode_head.conv_seg.weight.grad.abs().sum() > 0
    assert cfg.model.loss_aux_contrast.loss_weight == 0.1


def test_stage2_loads_stage1_without_the_projection(tiny, tmp_path):
    root, aux_dir = tiny
    init_default_scope('mmseg')
    stage1 = revert_sync_batchnorm(
        MODELS.build(_cfg(PRETRAIN, root, aux_dir).model))
    ckpt = str(tmp_path / 'stage1.pth')
    torch.save(dict(state_dict=stage1.state_dict(), meta=dict()), ckpt)
    cfg = Config.fromfile(FINETUNE)
    assert cfg.model.type == 'EncoderDecoder'
    stage2 = revert_sync_batchnorm(MODELS.build(cfg.model))
    sd = torch.load(ckpt, weights_only=True)['state_dict']
    extra = sorted(set(sd) - set(stage2.state_dict()))
    missing = sorted(set(stage2.state_dict()) - set(sd))
    assert extra and all(k.startswith('aux_proj.') for k in extra)
    assert missing == []
    load_checkpoint(stage2, ckpt, strict=False)
    for k, v in stage2.state_dict().items():
        torch.testing.assert_close(v, sd[k])


def test_missing_aux_label_names_the_file(tiny, tmp_path):
    root, aux_dir = tiny
    os.remove(osp.join(aux_dir, sorted(os.listdir(aux_dir))[0]))
    cfg = _cfg(PRETRAIN, root, aux_dir)
    init_default_scope('mmseg')
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    with pytest.raises(FileNotFoundError, match=r'aux.*\.png'):
        dataset[0]


def test_head_without_forward_feature_is_refused():
    init_default_scope('mmseg')
    bn = dict(type='BN', requires_grad=True)
    with pytest.raises(TypeError, match='DepthwiseSeparableASPPHead'):
        MODELS.build(
            dict(
                type='AuxContrastEncoderDecoder',
                backbone=dict(type='ResNetV1c', depth=18, base_channels=8,
                              norm_cfg=bn),
                decode_head=dict(
                    type='DepthwiseSeparableASPPHead', in_channels=64,
                    in_index=3, channels=16, dilations=(1, 2),
                    c1_in_channels=8, c1_channels=4, num_classes=3,
                    norm_cfg=bn)))
