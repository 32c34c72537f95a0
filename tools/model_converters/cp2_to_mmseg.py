# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Convert a CP2 pretraining checkpoint into an MMSeg DeepLabV3 init.

    python tools/model_converters/cp2_to_mmseg.py SRC DST [--config CFG]

SRC may be a checkpoint of our CP2 pretraining, or an official CP2 file
(raw ``module.encoder_q.*`` training checkpoint or the flat released one).
The backbone and the ASPP head are kept; the projector, key encoder, queue
and ``conv_seg`` are dropped; ViT weights in timm names (the official code's
ViT) are renamed to mmseg's ``VisionTransformer`` names as mmseg's
``vit2mmseg.py`` does. The result is checked against the model of
``--config`` (default: the VOC fine-tuning config of the detected backbone,
ResNet-50 or ViT-S/16): the tool fails when a backbone or ASPP key is
missing or has the wrong shape, or when the ViT head count recorded in the
pretraining checkpoint differs from the config's; a ViT position embedding
is resized to the config's input size. It prints what it kept and dropped.
Fine-tune with ``load_from=DST``.
"""
import argparse
import os
import os.path as osp
import sys

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import _load_checkpoint

import cp2_mmseg  # noqa: F401
from cp2_mmseg.models.utils.cp2_checkpoint import (convert_cp2_state_dict,
                                                   fit_vit_pos_embed,
                                                   is_vit_state_dict)

CFG_DIR = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
    'configs/cp2')
DEFAULT_CFGS = dict(
    resnet=osp.join(CFG_DIR, 'deeplabv3_r50-d16-cp2_4xb4-40k_voc12aug-'
                    '512x512.py'),
    vit=osp.join(CFG_DIR, 'deeplabv3_vit-s16-cp2_4xb4-40k_voc12aug-'
                 '512x512.py'))


def pretrain_num_heads(checkpoint: dict):
    """The ViT head count of the pretraining run, from the config that
    mmengine stores in ``meta['cfg']`` (None when not recorded)."""
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    text = meta.get('cfg') if isinstance(meta, dict) else None
    if not isinstance(text, str):
        return None
    try:
        cfg = Config.fromstring(text, '.py')
        return cfg.model.backbone.get('num_heads')
    except Exception:  # a config we cannot parse records nothing for us
        return None


def build_target(config: str):
    """The fine-tuning model of ``config`` (no pretrained weights)."""
    from mmseg.registry import MODELS
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    cfg.model.pop('pretrained', None)
    cfg.model.get('backbone', {}).pop('init_cfg', None)
    return cfg, MODELS.build(cfg.model)


def check_against(state_dict: dict, model) -> list:
    """Keys of the target model's backbone / ASPP the state dict lacks or
    gets wrong (shape)."""
    problems = []
    for k, v in model.state_dict().items():
        if not k.startswith(('backbone.', 'decode_head.')):
            continue
        if k.startswith('decode_head.conv_seg') or k.endswith(
                'num_batches_tracked'):
            continue
        if k not in state_dict:
            problems.append(f'missing {k}')
        elif state_dict[k].shape != v.shape:
            problems.append(f'shape {k}: {tuple(state_dict[k].shape)} vs '
                            f'{tuple(v.shape)}')
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('src', help='CP2 checkpoint')
    parser.add_argument('dst', help='output checkpoint for load_from')
    parser.add_argument(
        '--config',
        default=None,
        help='fine-tuning config whose model the result must fit (default: '
        'the VOC config of the detected backbone, ResNet-50 or ViT-S/16)')
    args = parser.parse_args()
    if not osp.isfile(args.src):
        sys.exit(f'error: checkpoint {args.src!r} not found')
    checkpoint = _load_checkpoint(args.src, map_location='cpu')
    state_dict, kept, dropped = convert_cp2_state_dict(checkpoint)
    n_bb = sum(k.startswith('backbone.') for k in state_dict)
    n_head = sum(k.startswith('decode_head.') for k in state_dict)
    print(f'kept {len(kept)} tensors: {n_bb} backbone, {n_head} ASPP head')
    drop_groups = {}
    for k in dropped:
        g = k.replace('module.', '').split('.')[0]
        drop_groups[g] = drop_groups.get(g, 0) + 1
    print(f'dropped {len(dropped)} tensors: {drop_groups}')
    if n_bb == 0:
        sys.exit(f'error: no backbone key found in {args.src} (keys start '
                 f'with {list(checkpoint.get("state_dict", checkpoint))[:5]})')
    vit = is_vit_state_dict(state_dict)
    config = args.config or DEFAULT_CFGS['vit' if vit else 'resnet']
    print(f'backbone: {"ViT" if vit else "ResNet"}; checking against '
          f'{osp.relpath(config)}')
    cfg, model = build_target(config)
    if vit:
        heads = pretrain_num_heads(checkpoint)
        want = cfg.model.backbone.get('num_heads')
        if heads is not None and want is not None and heads != want:
            sys.exit(f'error: {args.src} was pretrained with num_heads='
                     f'{heads}, {config} builds num_heads={want}; shapes '
                     'match but attention would be wrong: set '
                     f'model.backbone.num_heads={heads}')
        target = model.state_dict().get('backbone.pos_embed')
        if target is not None and fit_vit_pos_embed(state_dict,
                                                    tuple(target.shape)):
            print(f'resized backbone.pos_embed to {tuple(target.shape)}')
    args.config = config
    problems = check_against(state_dict, model)
    if problems:
        sys.exit(f'error: the converted weights do not fit '
                 f'{args.config}:\n  ' + '\n  '.join(problems[:40]) +
                 (f'\n  ... {len(problems) - 40} more'
                  if len(problems) > 40 else ''))
    os.makedirs(osp.dirname(osp.abspath(args.dst)), exist_ok=True)
    torch.save(dict(state_dict=state_dict, meta=dict(source=args.src)),
               args.dst)
    print(f'saved {args.dst}; it fits {osp.basename(args.config)} '
          '(conv_seg is trained from scratch)')


if __name__ == '__main__':
    main()
