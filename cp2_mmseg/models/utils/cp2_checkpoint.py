# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""CP2 checkpoint -> MMSeg DeepLabV3 initialisation.

Accepted layouts:

(a) ours (``CP2`` in this package): ``backbone.*``, ``decode_head.*``,
    ``projector.*``, ``encoder_k.*``, ``queue``, ``queue_ptr``;
(b) the official training checkpoint: ``module.encoder_q.backbone.*``,
    ``module.encoder_q.decode_head.*``, ``module.encoder_k.*``,
    ``module.queue``, ``module.queue_ptr``;
(c) the official flat layout: ``conv1.*``, ``layer1.*``, ..., ``image_pool.*``,
    ``aspp_modules.*``, ``bottleneck.*``, ``contrast_conv.*``, ``conv_seg.*``.

ViT backbones: the official code's vendored ViT uses timm names
(``blocks.0.norm1.weight``, flat or under ``backbone.``); they are renamed to
mmseg's ``VisionTransformer`` names with the mapping of mmseg's own
``tools/model_converters/vit2mmseg.py`` (``layers.0.ln1.weight``), and the
position embedding can be resized to the fine-tuning input
(:func:`fit_vit_pos_embed`).

Kept: the backbone and the ASPP head (``image_pool``, ``aspp_modules``,
``bottleneck``). Dropped: the projector / ``contrast_conv``, the key
encoder, the queue, and ``conv_seg`` (untrained in pretraining).
"""
import math
from collections import OrderedDict
from typing import Dict, List, Tuple

import torch
import torch.nn.functional as F

from .pretrained_backbone import timm_to_mmseg_vit

HEAD_KEYS = ('image_pool.', 'aspp_modules.', 'bottleneck.')
RESNET_KEYS = ('conv1.', 'bn1.', 'layer1.', 'layer2.', 'layer3.', 'layer4.',
               'stem.')
VIT_TIMM_KEYS = ('blocks.', 'patch_embed.', 'cls_token', 'pos_embed',
                 'norm.')
DROP_PREFIXES = ('encoder_k.', 'projector.', 'queue', 'queue_ptr',
                 'contrast_conv.', 'conv_seg.', 'fc.', 'head.')


def convert_cp2_state_dict(
    checkpoint: dict
) -> Tuple[Dict[str, torch.Tensor], List[str], List[str]]:
    """Convert any supported CP2 layout to ``backbone.*`` / ``decode_head.*``.

    Args:
        checkpoint (dict): The loaded checkpoint or state dict.

    Returns:
        tuple: the new state dict, the source keys kept, the keys dropped.
    """
    sd = checkpoint
    for key in ('state_dict', 'model'):
        if isinstance(sd, dict) and isinstance(sd.get(key), dict):
            sd = sd[key]
    out, kept, dropped = OrderedDict(), [], []
    flat_vit = {}
    for key, value in sd.items():
        k = key[len('module.'):] if key.startswith('module.') else key
        if k.startswith('encoder_q.'):
            k = k[len('encoder_q.'):]
        elif k.startswith('encoder_k.') or k.startswith(DROP_PREFIXES):
            dropped.append(key)
            continue
        if k.startswith('decode_head.'):
            sub = k[len('decode_head.'):]
            if sub.startswith(HEAD_KEYS):
                out[k] = value
                kept.append(key)
            else:  # conv_seg, contrast_conv
                dropped.append(key)
        elif k.startswith('backbone.'):
            sub = k[len('backbone.'):]
            if sub.startswith(VIT_TIMM_KEYS):
                flat_vit[sub] = value
            else:
                out[k] = value
            kept.append(key)
        elif k.startswith(HEAD_KEYS):
            out['decode_head.' + k] = value
            kept.append(key)
        elif k.startswith(RESNET_KEYS):
            out['backbone.' + k] = value
            kept.append(key)
        elif k.startswith(VIT_TIMM_KEYS):
            flat_vit[k] = value
            kept.append(key)
        else:
            dropped.append(key)
    for k, v in timm_to_mmseg_vit(flat_vit).items():
        out['backbone.' + k] = v
    return out, kept, dropped


def is_vit_state_dict(state_dict: Dict[str, torch.Tensor]) -> bool:
    """Whether a converted state dict holds an mmseg ``VisionTransformer``."""
    return any(k.startswith('backbone.layers.') for k in state_dict) and \
        'backbone.patch_embed.projection.weight' in state_dict


def fit_vit_pos_embed(state_dict: Dict[str, torch.Tensor],
                      target_shape: Tuple[int, ...],
                      mode: str = 'bicubic') -> bool:
    """Resize ``backbone.pos_embed`` (1, 1 + h * w, C) to ``target_shape``.

    The cls-token entry is kept; the grid is interpolated as mmseg's
    ``VisionTransformer.resize_pos_embed`` does when it loads pretrained
    weights (pretraining at 224 gives a 14 x 14 grid, fine-tuning at 512 a
    32 x 32 one). Square grids only.

    Args:
        state_dict (dict): Converted weights, changed in place.
        target_shape (tuple): The fine-tuning model's pos_embed shape.
        mode (str): Interpolation. Defaults to 'bicubic'.

    Returns:
        bool: Whether it was resized.
    """
    key = 'backbone.pos_embed'
    src = state_dict.get(key)
    if src is None or tuple(src.shape) == tuple(target_shape):
        return False
    if src.shape[-1] != target_shape[-1]:
        raise ValueError(f'{key}: width {src.shape[-1]} cannot become '
                         f'{target_shape[-1]}')
    src_n, dst_n = src.shape[1] - 1, target_shape[1] - 1
    src_g, dst_g = int(math.isqrt(src_n)), int(math.isqrt(dst_n))
    if src_g * src_g != src_n or dst_g * dst_g != dst_n:
        raise ValueError(f'{key}: only square grids are resized, got '
                         f'{src_n} -> {dst_n} tokens')
    cls_tok, grid = src[:, :1], src[:, 1:]
    grid = grid.reshape(1, src_g, src_g, -1).permute(0, 3, 1, 2).float()
    grid = F.interpolate(grid, size=(dst_g, dst_g), mode=mode,
                         align_corners=False)
    grid = grid.permute(0, 2, 3, 1).reshape(1, dst_n, -1).to(src.dtype)
    state_dict[key] = torch.cat([cls_tok, grid], dim=1)
    return True
