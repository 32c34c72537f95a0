# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Load a backbone from the checkpoints users have (quick tuning).

ResNet: MoCo v2 official (``module.encoder_q.*``), torchvision (flat),
mmpretrain / mmseg (``backbone.*``), CP2 official (``module.encoder_q.
backbone.*``). ViT-S/16: timm / DINO (flat timm names, or a DINO training
checkpoint nested under ``teacher`` / ``student``), MoCo v3
(``module.base_encoder.*``), mmpretrain (``backbone.*``), renamed to
mmseg's ``VisionTransformer`` names like mmseg's ``vit2mmseg.py``.

ViT checkpoints of the same size differ in their number of attention heads,
which no tensor shape reveals (the qkv projection is ``3 * dim x dim``
whatever the head count): MoCo v3's ViT-S has 12 heads, DINO's and timm's /
DeiT's 6. :data:`VIT_NUM_HEADS` holds the count per family; the loader
checks the backbone against it (and against the checkpoint's ``arch``
metadata when it has any) instead of silently running the wrong attention.
"""
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

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


# heads of each family's ViTs, by embedding size (ViT-S 384, ViT-B 768,
# ViT-L 1024) and by the architecture name the checkpoints store
VIT_NUM_HEADS = {
    'mocov3': {384: 12, 768: 12, 1024: 16},
    'dino': {384: 6, 768: 12},
    'timm': {384: 6, 768: 12, 1024: 16},
}
VIT_ARCH_DIMS = {'vit_small': 384, 'vit_base': 768, 'vit_large': 1024,
                 'deit_small': 384, 'deit_base': 768}


def _unwrap(checkpoint) -> Dict[str, torch.Tensor]:
    for key in ('state_dict', 'model', 'module', 'teacher'):
        if isinstance(checkpoint, dict) and isinstance(
                checkpoint.get(key), dict):
            checkpoint = checkpoint[key]
    return checkpoint


def checkpoint_family(checkpoint) -> Optional[str]:
    """The ViT family a checkpoint's layout identifies, if any.

    ``module.base_encoder.*`` is MoCo v3's training checkpoint; a dict with
    ``teacher`` / ``student`` is DINO's. Flat timm names (timm, DeiT and
    DINO's released backbone files alike) say nothing.

    Args:
        checkpoint (dict): The loaded checkpoint.

    Returns:
        str | None: 'mocov3', 'dino' or None.
    """
    if isinstance(checkpoint, dict) and ('teacher' in checkpoint
                                         or 'student' in checkpoint):
        return 'dino'
    keys = list(_unwrap(checkpoint))
    if any(k.startswith(('module.base_encoder.', 'base_encoder.'))
           for k in keys):
        return 'mocov3'
    return None


def checkpoint_arch(checkpoint) -> Optional[str]:
    """The ``arch`` a checkpoint records: MoCo v3's top-level ``arch``,
    DINO's ``args.arch`` (an ``argparse.Namespace`` or a dict)."""
    if not isinstance(checkpoint, dict):
        return None
    arch = checkpoint.get('arch')
    args = checkpoint.get('args')
    if arch is None and args is not None:
        arch = args.get('arch') if isinstance(args, dict) else getattr(
            args, 'arch', None)
    return arch if isinstance(arch, str) else None


def vit_num_heads(backbone: nn.Module) -> Optional[int]:
    """The attention heads of an mmseg / mmpretrain ViT (None otherwise)."""
    for m in backbone.modules():
        if isinstance(m, nn.MultiheadAttention):
            return m.num_heads
        heads = getattr(m, 'num_heads', None)
        if isinstance(heads, int) and hasattr(m, 'qkv'):
            return heads
    return None


def check_vit_heads(backbone: nn.Module, checkpoint, filename: str,
                    family: Optional[str] = None) -> Optional[str]:
    """Fail when a ViT backbone's head count is not its checkpoint's.

    Args:
        backbone (nn.Module): The target backbone.
        checkpoint (dict): The loaded checkpoint.
        filename (str): For the messages.
        family (str, optional): 'mocov3', 'dino' or 'timm' as configured;
            None takes the family the layout identifies.

    Returns:
        str | None: The family the check used (None: no check possible).
    """
    heads = vit_num_heads(backbone)
    if heads is None:
        return None
    detected = checkpoint_family(checkpoint)
    if family is not None and family not in VIT_NUM_HEADS:
        raise ValueError(f'unknown ViT checkpoint family {family!r}; known: '
                         f'{sorted(VIT_NUM_HEADS)}')
    if family is not None and detected is not None and family != detected:
        raise ValueError(
            f'{filename}: configured as a {family!r} checkpoint but its '
            f'layout is {detected!r}')
    family = family or detected
    if family is None:
        return None
    dim = None
    for m in backbone.modules():
        if isinstance(m, nn.MultiheadAttention):
            dim = m.embed_dim
            break
    arch = checkpoint_arch(checkpoint)
    if arch is not None and arch in VIT_ARCH_DIMS:
        if dim is not None and VIT_ARCH_DIMS[arch] != dim:
            raise ValueError(
                f'{filename}: the checkpoint is a {arch} '
                f'({VIT_ARCH_DIMS[arch]}-d), the backbone is {dim}-d')
        dim = VIT_ARCH_DIMS[arch]
    expected = VIT_NUM_HEADS[family].get(dim)
    if expected is not None and expected != heads:
        raise ValueError(
            f'{filename}: {family} ViTs of width {dim} have {expected} '
            f'attention heads (arch {arch or "not recorded"}), the backbone '
            f'is configured with num_heads={heads}. Shapes cannot tell them '
            f'apart, so loading would silently run the wrong attention: set '
            f'backbone.num_heads={expected} (configs/cp2/*quick-tune-'
            f'{family}*.py do).')
    return family


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
                                 'num_batches_tracked', ),
                             family: Optional[str] = None) -> List[str]:
    """Load ``filename`` into ``backbone`` from any supported layout.

    Raises a ``KeyError`` when nothing matches or when backbone keys other
    than ``allow_missing`` patterns are missing, and a ``ValueError`` on a
    shape mismatch or a ViT head count that is not the checkpoint
    family's, each naming the keys or values.

    Args:
        backbone (nn.Module): Target backbone.
        filename (str): Checkpoint path.
        allow_missing (tuple[str]): Substrings of keys allowed to be absent.
        family (str, optional): ViT checkpoint family ('mocov3', 'dino',
            'timm'), checked against the layout and ``arch`` metadata and
            used for the head-count check; None: detected from the layout.

    Returns:
        list[str]: The loaded keys.
    """
    from mmengine.runner.checkpoint import _load_checkpoint
    checkpoint = _load_checkpoint(filename, map_location='cpu')
    check_vit_heads(backbone, checkpoint, filename, family)
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
