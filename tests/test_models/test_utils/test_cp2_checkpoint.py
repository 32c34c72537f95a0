import os.path as osp
import subprocess

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import cp2_mmseg  # noqa: F401
from cp2_mmseg.models.utils.cp2_checkpoint import convert_cp2_state_dict

from ...conftest import PYTHON, REPO
from ..test_selfsup.test_cp2 import build

FINETUNE = osp.join(REPO, 'configs/cp2/'
                    'deeplabv3_r18-d16-cp2_1xb8-2k_camvid-1-8-360x480.py')


def finetune_model(channels=16):
    cfg = Config.fromfile(FINETUNE)
    cfg.model.decode_head.channels = channels
    cfg.model.decode_head.dilations = (1, 2, 3, 4)
    init_default_scope('mmseg')
    return cfg, MODELS.build(cfg.model)


def check_loaded(converted, source_backbone, source_head):
    _, model = finetune_model()
    missing, unexpected = model.load_state_dict(converted, strict=False)
    assert unexpected == []
    assert all(k.startswith('decode_head.conv_seg') for k in missing), missing
    for k, v in source_backbone.items():
        assert torch.equal(model.backbone.state_dict()[k], v), k
    for k, v in source_head.items():
        if not k.startswith('conv_seg'):
            assert torch.equal(model.decode_head.state_dict()[k], v), k


def test_convert_ours():
    torch.manual_seed(0)
    cp2 = build()
    sd = cp2.state_dict()
    out, kept, dropped = convert_cp2_state_dict(dict(state_dict=sd))
    assert not any('projector' in k or 'encoder_k' in k or 'queue' in k
                   or 'conv_seg' in k for k in out)
    assert any(k.startswith('projector') for k in dropped)
    assert 'queue' in dropped
    check_loaded(out, cp2.backbone.state_dict(), cp2.decode_head.state_dict())


def test_convert_official_layouts():
    torch.manual_seed(1)
    cp2 = build()
    bb, head = cp2.backbone.state_dict(), cp2.decode_head.state_dict()
    raw = {f'module.encoder_q.backbone.{k}': v for k, v in bb.items()}
    raw.update({f'module.encoder_q.decode_head.{k}': v
                for k, v in head.items()})
    raw['module.encoder_q.decode_head.contrast_conv.0.weight'] = torch.zeros(
        1)
    raw['module.encoder_k.backbone.conv1.weight'] = torch.zeros(1)
    raw['module.queue'] = torch.zeros(8, 12)
    out, _, dropped = convert_cp2_state_dict(dict(state_dict=raw))
    assert 'module.queue' in dropped
    check_loaded(out, bb, head)
    flat = dict(bb)
    flat.update(head)
    flat['contrast_conv.2.weight'] = torch.zeros(1)
    out, _, _ = convert_cp2_state_dict(flat)
    check_loaded(out, bb, head)


def test_converter_tool(tmp_path):
    torch.manual_seed(0)
    cp2 = build()
    src = str(tmp_path / 'cp2.pth')
    torch.save(dict(state_dict=cp2.state_dict()), src)
    dst = str(tmp_path / 'out.pth')
    opts = dict(cwd=REPO, capture_output=True, text=True)
    # the tool checks against a config: write one matching the tiny head
    cfg = Config.fromfile(FINETUNE)
    cfg.model.decode_head.channels = 16
    cfg.model.decode_head.dilations = (1, 2, 3, 4)
    cfg_path = str(tmp_path / 'ft.py')
    cfg.dump(cfg_path)
    proc = subprocess.run([PYTHON, 'tools/model_converters/cp2_to_mmseg.py',
                           src, dst, '--config', cfg_path], **opts)
    assert proc.returncode == 0, proc.stderr
    assert 'kept' in proc.stdout and 'dropped' in proc.stdout
    out = torch.load(dst, weights_only=True)['state_dict']
    check_loaded(out, cp2.backbone.state_dict(), cp2.decode_head.state_dict())
    # a checkpoint without layer4 fails loudly, naming the keys
    sd = {k: v for k, v in cp2.state_dict().items() if 'layer4' not in k}
    torch.save(dict(state_dict=sd), src)
    proc = subprocess.run([PYTHON, 'tools/model_converters/cp2_to_mmseg.py',
                           src, dst, '--config', cfg_path], **opts)
    assert proc.returncode != 0
    assert 'backbone.layer4.0.conv1.weight' in proc.stderr


VIT_FINETUNE = osp.join(REPO, 'configs/cp2/'
                        'deeplabv3_vit-s16-cp2_4xb4-40k_voc12aug-512x512.py')


def _official_vit_checkpoint(ft_model, heads=None):
    """An official-style raw CP2 ViT-S checkpoint: timm names under
    ``module.encoder_q.backbone.``, a 14 x 14 (224) position grid, the ASPP
    head, contrast_conv, key encoder and queue."""
    from .test_pretrained_backbone import to_timm
    bb = to_timm(ft_model.backbone.state_dict())
    bb['pos_embed'] = torch.randn(1, 1 + 14 * 14, 384)
    raw = {f'module.encoder_q.backbone.{k}': v.clone()
           for k, v in bb.items()}
    head = {k: v.clone() for k, v in ft_model.decode_head.state_dict().items()
            if not k.startswith('conv_seg')}
    raw.update({f'module.encoder_q.decode_head.{k}': v
                for k, v in head.items()})
    raw['module.encoder_q.decode_head.contrast_conv.0.weight'] = torch.zeros(
        512, 512, 1, 1)
    raw['module.encoder_k.backbone.blocks.0.norm1.weight'] = torch.ones(384)
    raw['module.queue'] = torch.zeros(128, 16)
    ckpt = dict(state_dict=raw)
    if heads is not None:
        ckpt['meta'] = dict(cfg=f'model = dict(backbone=dict(num_heads='
                            f'{heads}))')
    return ckpt, bb, head


def test_vit_path_pretrain_convert_finetune(tmp_path):
    """ViT-S/16 + ASPP: the official raw layout converts into mmseg's
    VisionTransformer names (vit2mmseg mapping), the tool picks the ViT
    fine-tuning config by itself, resizes the position embedding to the
    512 input, and every converted tensor lands in the fine-tuning model."""
    torch.manual_seed(0)
    cfg = Config.fromfile(VIT_FINETUNE)
    init_default_scope('mmseg')
    ft = MODELS.build(cfg.model)
    ckpt, bb, head = _official_vit_checkpoint(ft, heads=12)
    src, dst = str(tmp_path / 'cp2_vit.pth'), str(tmp_path / 'out.pth')
    torch.save(ckpt, src)
    proc = subprocess.run(
        [PYTHON, 'tools/model_converters/cp2_to_mmseg.py', src, dst],
        cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert 'ViT' in proc.stdout and 'deeplabv3_vit-s16' in proc.stdout
    out = torch.load(dst, weights_only=True)['state_dict']
    assert not any('blocks.' in k or 'norm1' in k for k in out)
    model = MODELS.build(cfg.model)
    missing, unexpected = model.load_state_dict(out, strict=False)
    assert unexpected == []
    assert all(k.startswith('decode_head.conv_seg') for k in missing)
    sd = model.state_dict()
    for k, v in out.items():  # every converted tensor landed
        assert torch.equal(sd[k], v), k
    assert out['backbone.pos_embed'].shape == (1, 1 + 32 * 32, 384)
    assert torch.equal(out['backbone.pos_embed'][:, 0], bb['pos_embed'][:, 0])
    assert torch.equal(out['backbone.layers.0.ln1.weight'],
                       bb['blocks.0.norm1.weight'])
    for k, v in head.items():
        assert torch.equal(sd['decode_head.' + k], v), k
    # a checkpoint pretrained with 6 heads does not fit the 12-head config
    torch.save(_official_vit_checkpoint(ft, heads=6)[0], src)
    proc = subprocess.run(
        [PYTHON, 'tools/model_converters/cp2_to_mmseg.py', src, dst],
        cwd=REPO, capture_output=True, text=True)
    assert proc.returncode != 0 and 'num_heads=6' in proc.stderr
