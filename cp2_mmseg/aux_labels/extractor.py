# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Feature extractors for auxiliary labels: any model our users have,
built from its config and checkpoint.

* an mmseg segmentor (``EncoderDecoder`` and subclasses, e.g. one trained on
  the few labelled images, or our label-efficient stage 1):
  ``mode='feat'``: the decode head's features before ``conv_seg``
  (``_forward_feature``); ``mode='pred'``: its predicted classes;
  ``mode='backbone'``: a backbone stage;
* our CP2 pretraining model: ``'feat'`` = the ASPP features,
  ``'embed'`` = the projector's 128-d embedding, ``'backbone'``;
* an mmpretrain model (a MoCo v2 / classification checkpoint):
  ``'backbone'`` (official MoCo / torchvision / mmpretrain layouts load).
"""
import hashlib
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope
from torch import Tensor

MODES = ('feat', 'pred', 'backbone', 'embed')


def file_sha256(path: str, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file (recorded in the metadata)."""
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            h.update(block)
    return h.hexdigest()


class FeatureExtractor(nn.Module):
    """A frozen model as ``image batch -> (N, D, h, w)`` features, or
    ``(N, C, H, W)`` class scores in ``'pred'`` mode.

    Args:
        config (str): The model's config (mmseg or mmpretrain).
        checkpoint (str, optional): Its weights; None keeps the
            initialisation (tests).
        mode (str): One of :data:`MODES`.
        layer (int): Backbone stage for ``'backbone'``. Defaults to -1.
        input_scale (float): Images are bilinearly resized by this factor
            before the model (e.g. 0.5 for a model trained on
            half-resolution images); features and labels keep the
            geometry of the unscaled image. Defaults to 1.
    """

    def __init__(self,
                 config: str,
                 checkpoint: Optional[str] = None,
                 mode: str = 'feat',
                 layer: int = -1,
                 input_scale: float = 1.0) -> None:
        super().__init__()
        if input_scale <= 0:
            raise ValueError(f'input_scale must be > 0, got {input_scale}')
        self.input_scale = float(input_scale)
        if mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
        cfg = Config.fromfile(config)
        scope = cfg.get('default_scope', 'mmseg')
        init_default_scope(scope)
        model_cfg = cfg.model
        model_cfg.pop('pretrained', None)
        model_cfg.pop('backbone_checkpoint', None)
        if isinstance(model_cfg.get('backbone'), dict):
            model_cfg.backbone.pop('init_cfg', None)
        if scope == 'mmpretrain':
            import mmpretrain.models  # noqa: F401
            from mmpretrain.registry import MODELS
        else:
            from mmseg.registry import MODELS
        from mmengine.model.utils import revert_sync_batchnorm
        model = revert_sync_batchnorm(MODELS.build(model_cfg))
        self.kind = ('cp2' if type(model).__name__ == 'CP2' else
                     'segmentor' if hasattr(model, 'decode_head') else
                     'backbone_only')
        if mode in ('feat', 'pred') and self.kind == 'backbone_only':
            raise ValueError(f'{config}: a {type(model).__name__} has no '
                             f"decode head; use mode='backbone'")
        if mode == 'pred' and self.kind != 'segmentor':
            raise ValueError("mode='pred' needs an mmseg segmentor")
        if mode == 'embed' and self.kind != 'cp2':
            raise ValueError("mode='embed' is the CP2 projector's output")
        if checkpoint:
            if self.kind == 'backbone_only':
                from ..models.utils.pretrained_backbone import \
                    load_backbone_checkpoint
                load_backbone_checkpoint(model.backbone, checkpoint)
            else:
                from ..utils.checkpoint import load_checkpoint_checked
                load_checkpoint_checked(model, checkpoint)
        self.model = model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.mode = mode
        self.layer = layer
        self.config = config
        self.checkpoint = checkpoint

    @property
    def num_classes(self) -> Optional[int]:
        head = getattr(self.model, 'decode_head', None)
        return getattr(head, 'num_classes', None)

    def preprocess(self, imgs: list) -> Tensor:
        """Raw (3, H, W) uint8 BGR tensors -> the model's normalised batch.

        mmseg's preprocessor takes the list of images; a self-supervised
        one (mmpretrain's ``SelfSupDataPreprocessor``, CP2's) takes a list
        of *views*, each a stacked batch, so the images go in as one view.
        """
        pre = self.model.data_preprocessor
        if type(pre).__name__.startswith('SelfSup'):
            imgs = [torch.stack(imgs)]
        data = pre(dict(inputs=imgs, data_samples=None), False)
        inputs = data['inputs']
        if isinstance(inputs, (list, tuple)):  # self-supervised preprocessors
            inputs = inputs[0]
        #: the (padded) size of the last batch before ``input_scale``
        self.last_input_size = tuple(inputs.shape[2:])
        if self.input_scale != 1:
            inputs = F.interpolate(
                inputs, scale_factor=self.input_scale, mode='bilinear',
                align_corners=False)
        return inputs

    def _backbone(self, x: Tensor):
        feats = self.model.backbone(x)
        return feats if isinstance(feats, (list, tuple)) else [feats]

    @torch.no_grad()
    def forward(self, x: Tensor) -> Tensor:
        """Features (or class scores) of a normalised batch."""
        if self.mode == 'pred':
            return self._pred(x)
        if self.mode == 'embed':
            return self.model.encode(x)
        if self.mode == 'backbone':
            return self._backbone(x)[self.layer]
        feats = self._backbone(x) if self.kind == 'cp2' else \
            self.model.extract_feat(x)
        head = self.model.decode_head
        if not hasattr(head, '_forward_feature'):
            raise ValueError(f'{type(head).__name__} has no _forward_feature'
                             "; use mode='backbone'")
        return head._forward_feature(list(feats))

    def _pred(self, x: Tensor) -> Tensor:
        """Class scores of the decode head at the (unscaled) input size."""
        logits = self.model.decode_head.forward(self.model.extract_feat(x))
        size = getattr(self, 'last_input_size', tuple(x.shape[2:]))
        return F.interpolate(logits, size, mode='bilinear',
                             align_corners=False)


def features_at(feats: Tensor, size: Tuple[int, int]) -> Tensor:
    """L2-normalised features bilinearly resized to ``size`` (and
    re-normalised)."""
    feats = F.normalize(feats.float(), dim=1)
    if tuple(feats.shape[2:]) != tuple(size):
        feats = F.interpolate(feats, size=size, mode='bilinear',
                              align_corners=False)
        feats = F.normalize(feats, dim=1)
    return feats
