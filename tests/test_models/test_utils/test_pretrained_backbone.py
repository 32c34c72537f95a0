import re

import pytest
import torch
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import cp2_mmseg  # noqa: F401
from cp2_mmseg.models.utils.pretrained_backbone import load_backbone_checkpoint

VIT = dict(type='VisionTransformer', img_size=(32, 32), patch_size=16,
           embed_dims=24, num_layers=2, num_heads=2, mlp_ratio=2,
           out_indices=(1, ), final_norm=True, with_cls_token=True,
           norm_cfg=dict(type='LN', eps=1e-6))

# mmseg -> timm names (the inverse of mmseg's vit2mmseg mapping)
INVERSE = [(r'^layers\.', 'blocks.'), (r'\.ln1\.', '.norm1.'),
           (r'\.ln2\.', '.norm2.'), (r'\.attn\.attn\.in_proj_', '.attn.qkv.'),
           (r'\.attn\.attn\.out_proj\.', '.attn.proj.'),
           (r'\.ffn\.layers\.0\.0\.', '.mlp.fc1.'),
           (r'\.ffn\.layers\.1\.', '.mlp.fc2.'),
           (r'^patch_embed\.projection\.', 'patch_embed.proj.'),
           (r'^ln1\.', 'norm.')]


def to_timm(sd):
    out = {}
    for k, v in sd.items():
        for pat, rep in INVERSE:
            k = re.sub(pat, rep, k)
        out[k] = v
    return out


@pytest.mark.parametrize('prefix', ['', 'module.base_encoder.', 'backbone.'])
def test_vit_timm_layouts_load(tmp_path, prefix):
    init_default_scope('mmseg')
    src = MODELS.build(VIT)
    timm = to_timm(src.state_dict())
    assert 'blocks.0.attn.qkv.weight' in timm and 'norm.weight' in timm
    if prefix == 'backbone.':  # mmpretrain layout keeps mmseg-like names
        timm = src.state_dict()
    path = str(tmp_path / 'vit.pth')
    torch.save(dict(state_dict={prefix + k: v for k, v in timm.items()},
                    head={'w': torch.zeros(1)}), path)
    dst = MODELS.build(VIT)
    loaded = load_backbone_checkpoint(dst, path)
    assert len(loaded) == len(src.state_dict())
    for k, v in src.state_dict().items():
        assert torch.equal(dst.state_dict()[k], v), k


def test_missing_backbone_keys_named(tmp_path):
    init_default_scope('mmseg')
    src = MODELS.build(VIT)
    sd = {k: v for k, v in src.state_dict().items() if 'layers.1' not in k}
    path = str(tmp_path / 'partial.pth')
    torch.save(sd, path)
    with pytest.raises(KeyError, match='layers.1'):
        load_backbone_checkpoint(MODELS.build(VIT), path)


def vit_s(heads, layers=1):
    """A ViT-S width (384) backbone, 1 layer to stay small."""
    init_default_scope('mmseg')
    return MODELS.build(dict(VIT, embed_dims=384, num_layers=layers,
                             num_heads=heads, mlp_ratio=1, out_indices=(0, )))


def test_mocov3_vit_small_needs_12_heads(tmp_path):
    """MoCo v3's ViT-S has 12 heads: same shapes as a 6-head ViT-S, so only
    the family (layout `module.base_encoder.`, arch metadata) tells."""
    src = to_timm(vit_s(12).state_dict())
    path = str(tmp_path / 'mocov3.pth')
    torch.save(dict(arch='vit_small', epoch=300, state_dict={
        f'module.base_encoder.{k}': v for k, v in src.items()}), path)
    with pytest.raises(ValueError, match='12 attention heads'):
        load_backbone_checkpoint(vit_s(6), path)
    assert load_backbone_checkpoint(vit_s(12), path)
    # configured family contradicting the layout
    with pytest.raises(ValueError, match="'dino' checkpoint"):
        load_backbone_checkpoint(vit_s(6), path, family='dino')


def test_dino_training_checkpoint_teacher_and_6_heads(tmp_path):
    """A DINO training checkpoint (teacher / student, args Namespace with
    arch) loads its teacher into a 6-head ViT-S; 12 heads is an error."""
    import argparse
    teacher = vit_s(6)
    t_sd = to_timm(teacher.state_dict())
    student = {f'module.backbone.{k}': torch.zeros_like(v)
               for k, v in t_sd.items()}
    path = str(tmp_path / 'dino.pth')
    torch.save(dict(teacher={f'backbone.{k}': v for k, v in t_sd.items()},
                    student=student,
                    args=argparse.Namespace(arch='vit_small',
                                            patch_size=16)), path)
    dst = vit_s(6)
    load_backbone_checkpoint(dst, path)
    for k, v in teacher.state_dict().items():
        assert torch.equal(dst.state_dict()[k], v), k
    with pytest.raises(ValueError, match='6 attention heads'):
        load_backbone_checkpoint(vit_s(12), path)


def test_flat_timm_file_checked_by_configured_family(tmp_path):
    """A released flat backbone file says nothing about its family: the
    configured family decides (DINO's dino_deitsmall16_pretrain.pth)."""
    path = str(tmp_path / 'flat.pth')
    torch.save(to_timm(vit_s(6).state_dict()), path)
    load_backbone_checkpoint(vit_s(12), path)  # no family: no check
    load_backbone_checkpoint(vit_s(6), path, family='dino')
    with pytest.raises(ValueError, match='num_heads=12'):
        load_backbone_checkpoint(vit_s(12), path, family='dino')
