# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Load a backbone from the checkpoints users have (quick tuning).

ResNet: MoCo v2 official (``module.encoder_q.*``), torchvision (flat),
mmpretrain / mmseg (``backbone.*``), CP2 official (``module.encoder_q.
backbone.*``). ViT-S/16: timm / DINO (flat timm names), MoCo v3
(``module.base_encoder.*``), mmpretrain (``backbone.*``), renamed to
mmseg's ``VisionTransformer`` names like mmseg's ``vit2mmseg.py``.
"""
import re
from collections import OrderedDict
from typing import Dict, List, Tuple

import torch
import torch.nn as nn
from mmengine.logging import print_log

PREFIXES = ('module.encoder_q.backbone.', 'encoder_q.backbone.',
            'module.encoder_q.', 'encoder_q.', 'module.base_encoder.',
            'base_encoder.', 'module.backbone.', 'backbone.', 'module.',
            'student.backbone.', 'teacher.backbone.', '')

TIMM_TO_MMSEG = [
    (r'^blocks\.', 'layers.'),
    (r'\.norm1\.', '.ln1.'),
    (r'\.norm2\.', '.ln2.'),
    (r'\.attn\.qkv\.', '.attn.attn.in_proj_'),
    (r'\.attn\.proj\.', '.attn.attn.out_proj.'),
    (r'\.mlp\.fc1\.', '.ffn.layers.0.0.'),
    (r'\.mlp\.fc2\.', '.ffn.layers.1.'),
    (r'^patch_embed\.proj\.', 'patch_embed.projection.'),
    (r'^norm\.', 'ln1.'),
]


def _unwrap(checkpoint) -> Dict[str, torch.Tensor]:
    for key in ('state_dict', 'model', 'module'):
        if isinstance(checkpoint, dict) and isinstance(
                checkpoint.get(key), dict):
            checkpoint = checkpoint[key]
    return checkpoint


def timm_to_mmseg_vit(state_dict: Dict[str, torch.Tensor]
                      ) -> Dict[str, torch.Tensor]:
    """Rename timm ViT keys to mmseg ``VisionTransformer`` keys."""
    out = OrderedDict()
    for k, v in state_dict.items():
        new = k
        for pattern, repl in TIMM_TO_MMSEG:
            new = re.sub(pattern, repl, new)
        out[new] = v
    return out


def match_backbone_state_dict(
        backbone: nn.Module, checkpoint
) -> Tuple[Dict[str, torch.Tensor], str, List[str], List[str]]:
    """Find the prefix / naming under which the checkpoint fits best.

    Args:
        backbone (nn.Module): The target backbone.
        checkpoint (dict): A loaded checkpoint (any common layout).

    Returns:
        tuple: the state dict to load, the chosen layout, the backbone keys
        it misses, and the checkpoint keys left unused.
    """
    state_dict = _unwrap(checkpoint)
    own = backbone.state_dict()
    best = (OrderedDict(), '', list(own), list(state_dict))
    for prefix in PREFIXES:
        stripped = OrderedDict((k[len(prefix):], v)
                               for k, v in state_dict.items()
                               if k.startswith(prefix))
        for naming, sd in (('', stripped),
                           ('timm->mmseg ', timm_to_mmseg_vit(stripped))):
            hits = OrderedDict((k, v) for k, v in sd.items() if k in own)
            if len(hits) > len(best[0]):
                missing = [k for k in own if k not in hits]
                unused = [k for k in sd if k not in own]
                best = (hits, f'{naming}prefix {prefix!r}', missing, unused)
    return best


def load_backbone_checkpoint(backbone: nn.Module,
                             filename: str,
                             allow_missing: Tuple[str, ...] = (
                                 'num_batches_tracked', )) -> List[str]:
    """Load ``filename`` into ``backbone`` from any supported layout.

    Raises a ``KeyError`` when nothing matches or when backbone keys other
    than ``allow_missing`` patterns are missing, and a ``ValueError`` on a
    shape mismatch, each listing the keys.

    Args:
        backbone (nn.Module): Target backbone.
        filename (str): Checkpoint path.
        allow_missing (tuple[str]): Substrings of keys allowed to be absent.

    Returns:
        list[str]: The loaded keys.
    """
    from mmengine.runner.checkpoint import _load_checkpoint
    checkpoint = _load_checkpoint(filename, map_location='cpu')
    sd, layout, missing, unused = match_backbone_state_dict(
        backbone, checkpoint)
    if not sd:
        some = list(_unwrap(checkpoint))[:8]
        raise KeyError(
            f'{filename}: no key fits the {type(backbone).__name__} backbone'
            f' in any known layout (MoCo v2 / torchvision / mmpretrain / '
            f'timm / MoCo v3 / DINO). Checkpoint keys start with {some}; the '
            f'backbone expects e.g. {list(backbone.state_dict())[:5]}')
    missing = [k for k in missing if not any(a in k for a in allow_missing)]
    if missing:
        raise KeyError(f'{filename} ({layout}): {len(missing)} backbone keys '
                       f'missing: {missing[:30]}')
    own = backbone.state_dict()
    bad = [(k, tuple(v.shape), tuple(own[k].shape)) for k, v in sd.items()
           if v.shape != own[k].shape]
    if bad:
        raise ValueError(f'{filename} ({layout}): shape mismatch {bad[:10]}')
    backbone.load_state_dict(sd, strict=False)
    print_log(
        f'Loaded {len(sd)} backbone tensors from {filename} ({layout}); '
        f'{len(unused)} checkpoint keys unused (e.g. {unused[:5]})',
        logger='current')
    return list(sd)
