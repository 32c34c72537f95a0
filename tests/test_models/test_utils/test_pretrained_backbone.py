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
