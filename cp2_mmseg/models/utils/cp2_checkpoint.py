# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""CP2 checkpoint -> MMSeg DeepLabV3 initialisation.

Accepted layouts:

(a) ours (``CP2`` in this package): ``backbone.*``, ``decode_head.*``,
    ``projector.*``, ``encoder_k.*``, ``queue``, ``queue_ptr``;
(b) the official training checkpoint: ``module.encoder_q.backbone.*``,
    ``module.encoder_q.decode_head.*``, ``module.encoder_k.*``,
    ``module.queue``, ``module.queue_ptr``;
(c) the official flat layout: ``conv1.*``, ``layer1.*``, ..., ``image_pool.*``,
    ``aspp_modules.*``, ``bottleneck.*``, ``contrast_conv.*``, ``conv_seg.*``
    (ViT: timm names ``blocks.*``, ``patch_embed.*``, ... are renamed).

Kept: the backbone and the ASPP head (``image_pool``, ``aspp_modules``,
``bottleneck``). Dropped: the projector / ``contrast_conv``, the key
encoder, the queue, and ``conv_seg`` (untrained in pretraining).
"""
from collections import OrderedDict
from typing import Dict, List, Tuple

import torch

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
