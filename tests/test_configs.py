"""Every config in configs/ loads and builds its model on the CPU."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.model.utils import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import cp2_mmseg  # noqa: F401

from .conftest import REPO

CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                         recursive=True)
    if '_base_' not in p)
# CP2 pretraining configs build self-supervised models (tests/test_tools)
MODEL_CONFIGS = [p for p in CONFIGS if not osp.basename(p).startswith('cp2_')]


def test_configs_found():
    # guard against a glob that silently matches nothing
    assert len(CONFIGS) >= 15, CONFIGS


def _strip_pretrained(cfg):
    cfg.model.pop('pretrained', None)
    cfg.model.pop('backbone_checkpoint', None)  # CP2 quick tuning
    backbone = cfg.model.get('backbone', {})
    backbone.pop('init_cfg', None)
    backbone.pop('pretrained', None)
    return cfg


def build_model(path):
    cfg = _strip_pretrained(Config.fromfile(path))
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    return cfg, revert_sync_batchnorm(MODELS.build(cfg.model))


@pytest.mark.parametrize(
    'path', MODEL_CONFIGS, ids=[osp.relpath(p, REPO) for p in MODEL_CONFIGS])
def test_config_builds(path):
    cfg = Config.fromfile(path)
    assert cfg.get('custom_imports', {}).get('imports') == ['cp2_mmseg']
    assert 'train_dataloader' in cfg and 'model' in cfg
    if cfg.model.type != 'CP2':
        # tools/test.py --show / --show-dir turn this hook on
        hook = cfg.get('default_hooks', {}).get('visualization', {})
        assert hook.get('type') == 'SegVisualizationHook', path
    cfg, model = build_model(path)
    model.init_weights()
    assert sum(p.numel() for p in model.parameters()) > 0


def _num_classes(cfg):
    head = cfg.model.decode_head
    head = head[-1] if isinstance(head, (list, tuple)) else head
    return head.num_classes


CONTRAST_CONFIGS = [p for p in MODEL_CONFIGS if 'contrast' in osp.basename(p)]


@pytest.mark.parametrize(
    'path',
    CONTRAST_CONFIGS,
    ids=[osp.relpath(p, REPO) for p in CONTRAST_CONFIGS])
def test_contrast_config_train_step(path):
    """A training step of the real model on 2 tiny images, on the CPU."""
    torch.manual_seed(0)
    cfg = _strip_pretrained(Config.fromfile(path))
    cfg.model.data_preprocessor.size = (64, 64)
    heads = cfg.model.decode_head
    head = heads[-1] if isinstance(heads, (list, tuple)) else heads
    # live from the first step on 64x64 inputs
    head.loss_contrast.update(warmup_iters=0, min_pixels=4)
    init_default_scope('mmseg')
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    model.train()
    num_classes = _num_classes(cfg)
    samples = []
    for i in range(2):
        # big blocks of 2 classes: every (image, class) has enough pixels
        label = torch.zeros(1, 64, 64, dtype=torch.long)
        label[:, :, 32:] = (i + 1) % num_classes
        label[:, :4] = 255
        samples.append(SegDataSample(gt_sem_seg=PixelData(data=label)))
    data = dict(
        inputs=[torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8)] * 2,
        data_samples=samples)
    data = model.data_preprocessor(data, True)
    losses = model(**data, mode='loss')
    if 'memory_bank' in head.loss_contrast:  # the first step fills it
        losses = model(**data, mode='loss')
    # 'decode.loss_contrast', or 'decode_1.loss_contrast' in OCR's cascade
    key = [k for k in losses if k.endswith('.loss_contrast')]
    assert len(key) == 1, list(losses)
    assert losses[key[0]] > 0
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    proj = [p for n, p in model.named_parameters() if 'projection' in n]
    assert proj and all(p.grad is not None for p in proj)


SPC_CONFIGS = [p for p in MODEL_CONFIGS if 'spc-pretrain' in osp.basename(p)]


def test_spc_configs_found():
    assert len(SPC_CONFIGS) >= 3, SPC_CONFIGS


@pytest.mark.parametrize(
    'path', SPC_CONFIGS, ids=[osp.relpath(p, REPO) for p in SPC_CONFIGS])
def test_spc_pretrain_config_train_step(path):
    """Stage 1 of label-efficient pretraining: one step of the real model on
    2 tiny images; only the contrast loss, and it reaches the backbone."""
    torch.manual_seed(0)
    cfg = _strip_pretrained(Config.fromfile(path))
    assert cfg.get('val_cfg') is None and cfg.find_unused_parameters
    cfg.model.data_preprocessor.size = (64, 64)
    cfg.model.decode_head.loss_contrast.resize_size = (8, 8)
    init_default_scope('mmseg')
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    model.train()
    num_classes = _num_classes(cfg)
    samples = []
    for i in range(2):
        label = torch.zeros(1, 64, 64, dtype=torch.long)
        label[:, :, 32:] = (i + 1) % num_classes
        label[:, :4] = 255
        samples.append(SegDataSample(gt_sem_seg=PixelData(data=label)))
    data = dict(
        inputs=[torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8)] * 2,
        data_samples=samples)
    losses = model(**model.data_preprocessor(data, True), mode='loss')
    assert list(losses) == ['decode.loss_spc'] and losses['decode.loss_spc'] > 0
    losses['decode.loss_spc'].backward()
    assert next(model.backbone.parameters()).grad is not None


# The official ContrastiveSeg values per data set (configs/<data>/
# H_48_D_4.json, R_101_D_8.json, *_MEM.json), and ours where it has none
# (VOC; the paper-size semi-hard memory). docs/pixel_contrast.md has the
# same table.
# max_samples: the official 1024 per GPU x 4 GPUs, as a global budget
_PC = dict(temperature=0.1, base_temperature=0.07, loss_weight=0.1,
           max_samples=4096, sample_budget='global', max_views=100,
           warmup_iters=5000, min_pixels=None,
           contrast_with='batch', memory=None)
PIXEL_CONTRAST_VALUES = {
    'cityscapes': dict(_PC),
    'cityscapes-mem': dict(_PC, temperature=0.07, loss_weight=1.0,
                           max_views=1, contrast_with='memory',
                           memory=(5000, 5000, 10)),
    'pascal-context': dict(_PC, temperature=0.07),
    'coco-stuff': dict(_PC, temperature=0.07),
    'camvid': dict(_PC, temperature=0.07),
    'camvid-mem': dict(_PC, temperature=0.07, warmup_iters=3000,
                       contrast_with='memory', memory=(5000, 5000, 10)),
    # ours (no official config)
    'voc': dict(_PC),
    'cityscapes-mem-semihard': dict(_PC, contrast_with='both',
                                    memory=(29750, 2975, 10)),
}
# the CPU CamVid protocol (configs/camvid_cpu/, 2000 iterations): the
# official CamVid values with the warm-up scaled to the schedule and the
# pair threshold scaled to the 12x15 embedding (ours), in batch and memory
# mode
PIXEL_CONTRAST_VALUES['camvid-cpu'] = dict(
    PIXEL_CONTRAST_VALUES['camvid'], warmup_iters=500, min_pixels=2)
# make demo: 64x64 inputs, an 8x8 embedding (ours)
PIXEL_CONTRAST_VALUES['demo'] = dict(
    _PC, max_samples=1024, max_views=16, min_pixels=2, warmup_iters=100,
    proj_channels=64)
PIXEL_CONTRAST_VALUES['camvid-cpu-mem'] = dict(
    PIXEL_CONTRAST_VALUES['camvid-mem'], warmup_iters=300, min_pixels=2,
    memory=(460, 46, 10))  # the paper's 10 N / N for the 46-image split


def _pc_key(path):
    name = osp.basename(path)
    if 'synthetic-demo' in name:
        return 'demo'
    data = next(d for d in ('cityscapes', 'pascal-context', 'coco-stuff',
                            'camvid', 'voc') if d in name)
    if 'camvid_cpu' in path:
        data += '-cpu'
    if '-mem-semihard' in name:
        return data + '-mem-semihard'
    return data + '-mem' if '-mem_' in name else data


@pytest.mark.parametrize(
    'path',
    CONTRAST_CONFIGS,
    ids=[osp.relpath(p, REPO) for p in CONTRAST_CONFIGS])
def test_contrast_config_values_per_data_set(path):
    cfg = Config.fromfile(path)
    heads = cfg.model.decode_head
    head = heads[-1] if isinstance(heads, (list, tuple)) else heads
    loss = head.loss_contrast
    want = dict(PIXEL_CONTRAST_VALUES[_pc_key(path)])
    proj_channels = want.pop('proj_channels', 256)
    for k, v in want.items():
        if k == 'memory':
            bank = loss.get('memory_bank')
            got = None if bank is None else (
                bank.pixel_size, bank.region_size, bank.pixels_per_image)
            assert got == v, (k, got, v)
            if bank is not None:
                assert bank.num_classes == head.num_classes
        else:
            assert loss.get(k) == v, (k, loss.get(k), v)
    assert head.proj_cfg == dict(channels=proj_channels,
                                 proj_type='convmlp')


def test_hrnet_w48_baselines_have_contrast_configs():
    w48 = glob.glob(osp.join(REPO, 'configs', 'hrnet', 'fcn_hr48_*.py'))
    assert w48
    for path in w48:
        leaf = osp.basename(path).replace('fcn_hr48', 'fcn-contrast_hr48')
        assert osp.isfile(osp.join(REPO, 'configs', 'pixel_contrast', leaf))


CP2_CONFIGS = [p for p in CONFIGS if osp.basename(p).startswith('cp2_')]


@pytest.mark.parametrize(
    'path', CP2_CONFIGS, ids=[osp.relpath(p, REPO) for p in CP2_CONFIGS])
def test_cp2_pretrain_config_builds_and_steps(path):
    """Every CP2 pretraining config: its model (plain BN for shuffle BN;
    the ViT head count of its checkpoint family) and its copy-paste
    pipeline run one training step on 2 random images at the configured
    view size (224 for the ImageNet configs)."""
    import numpy as np
    from mmcv.transforms import Compose
    from mmpretrain.registry import TRANSFORMS  # noqa: F401 (scope)
    from cp2_mmseg.models.utils.pretrained_backbone import (VIT_NUM_HEADS,
                                                            vit_num_heads)
    torch.manual_seed(0)
    np.random.seed(0)
    cfg = Config.fromfile(path)
    family = cfg.model.get('backbone_checkpoint_family')
    cfg = _strip_pretrained(cfg)
    cfg.model.queue_len = 16
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    model.init_weights()
    assert not any(isinstance(m, torch.nn.SyncBatchNorm)
                   for m in model.modules()), 'SyncBN makes shuffle BN a no-op'
    if cfg.model.backbone.type == 'VisionTransformer':
        assert family in VIT_NUM_HEADS, path
        assert vit_num_heads(model.backbone) == VIT_NUM_HEADS[family][
            cfg.model.backbone.embed_dims]
    pipeline = Compose(cfg.train_dataloader.dataset.pipeline)
    rng = np.random.default_rng(0)
    samples = []
    for _ in range(2):
        imgs = [rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
                for _ in range(3)]
        samples.append(pipeline(dict(
            img=imgs[0], img_shape=(120, 160), ori_shape=(120, 160),
            mix_results=[dict(img=imgs[1]), dict(img=imgs[2])])))
    data = dict(inputs=[torch.stack([s['inputs'][v] for s in samples])
                        for v in range(2)],
                data_samples=[s['data_samples'] for s in samples])
    model.train()
    losses = model(**model.data_preprocessor(data, True), mode='loss')
    total = losses['loss_ins'] + losses['loss_dense']
    assert torch.isfinite(total)
    total.backward()
    assert next(model.backbone.parameters()).grad is not None
    assert model.queue_ptr.item() == 2


@pytest.mark.parametrize('pair', [
    ('label_efficient/deeplabv3plus-spc-pretrain_r50-d8_4xb2-40k_'
     'cityscapes-1-8-512x1024.py',
     'label_efficient/deeplabv3plus_r50-d8_4xb2-40k_cityscapes-1-8-512x1024_'
     'spc-finetune.py'),
    ('label_efficient/deeplabv3plus-spc-pretrain_r50-d8_4xb4-20k_voc12aug-'
     '366-512x512.py',
     'label_efficient/deeplabv3plus_r50-d8_4xb4-20k_voc12aug-366-512x512_'
     'spc-finetune.py'),
])
def test_two_stage_configs_share_the_label_split(pair):
    """Stage 2 fine-tunes on the split stage 1 was trained on, and loads
    stage 1's work dir."""
    pre, ft = (Config.fromfile(osp.join(REPO, 'configs', p)) for p in pair)
    pre_ds, ft_ds = pre.train_dataloader.dataset, ft.train_dataloader.dataset
    assert pre_ds.ann_file == ft_ds.ann_file and 'splits/' in pre_ds.ann_file
    assert pre_ds.type == ft_ds.type and \
        pre_ds.data_prefix == ft_ds.data_prefix
    assert osp.splitext(osp.basename(pair[0]))[0] in ft.load_from
