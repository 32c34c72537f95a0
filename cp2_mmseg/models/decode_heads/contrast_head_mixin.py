# Copyright (c) cp2-mmseg contributors. All rights reserved.
from typing import Dict, List, Optional, Sequence, Union

import torch.nn as nn
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList
from torch import Tensor


def init_contrast_modules(head: nn.Module, proj_cfg: Optional[dict],
                          loss_contrast: Union[dict, nn.Module]) -> None:
    """Build ``head.projection`` and ``head.loss_contrast``.

    The projection's ``type``, ``norm_cfg`` and ``in_channels`` default to
    ``ProjectionHead``, the head's norm and its (summed) ``in_channels``;
    the loss's ``ignore_index`` defaults to the head's.

    Args:
        head (nn.Module): A decode head (``norm_cfg``, ``in_channels``,
            ``ignore_index``).
        proj_cfg (dict, optional): :class:`ProjectionHead` options.
        loss_contrast (dict | nn.Module): The loss or its config.
    """
    proj_cfg = dict(proj_cfg or {})
    proj_cfg.setdefault('type', 'ProjectionHead')
    proj_cfg.setdefault('norm_cfg', head.norm_cfg)
    if 'in_channels' not in proj_cfg:
        in_ch = head.in_channels
        proj_cfg['in_channels'] = sum(in_ch) if isinstance(
            in_ch, (list, tuple)) else in_ch
    head.projection = MODELS.build(proj_cfg)
    if not isinstance(loss_contrast, nn.Module):
        loss_contrast = dict(loss_contrast)
        loss_contrast.setdefault('ignore_index', head.ignore_index)
        loss_contrast = MODELS.build(loss_contrast)
    head.loss_contrast = loss_contrast

class ContrastHeadMixin:
    """Adds a projection head and a pixel-contrast loss to a decode head.

    Only ``loss()`` changes (in the subclasses); ``forward()`` and
    ``predict()`` stay the stock ones, so inference runs exactly the stock
    head and ignores the projection. The projection reads the head's
    transformed inputs (``_transform_inputs``): the last backbone stage for
    DeepLabV3, the concatenated multi-resolution features for HRNet / OCR,
    as in the official models. Hard anchors are mined with the head's own
    logits.

    Args:
        proj_cfg (dict, optional): :class:`ProjectionHead` options, e.g.
            ``dict(channels=256, proj_type='convmlp')``; ``in_channels`` is
            taken from the head.
        loss_contrast (dict): The contrast loss config. Defaults to
            ``dict(type='PixelContrastLoss')``.
        **kwargs: The arguments of the stock head.
    """

    def __init__(self,
                 proj_cfg: Optional[dict] = None,
                 loss_contrast: dict = dict(type='PixelContrastLoss'),
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self._init_contrast(proj_cfg, loss_contrast)

    def loss(self, inputs: Sequence[Tensor], batch_data_samples: SampleList,
             train_cfg: ConfigType) -> dict:
        """The stock losses plus the contrast term (single-stage heads)."""
        seg_logits = self.forward(inputs)
        losses = self.loss_by_feat(seg_logits, batch_data_samples)
        losses.update(
            self._contrast_losses(inputs, seg_logits, batch_data_samples))
        return losses

    def _init_contrast(self, proj_cfg: Optional[dict],
                       loss_contrast: Union[dict, nn.Module]) -> None:
        init_contrast_modules(self, proj_cfg, loss_contrast)

    def _contrast_losses(self, inputs: Sequence[Tensor], seg_logits: Tensor,
                         batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """The contrast term for the logits just computed by ``forward``."""
        embed = self.projection(self._transform_inputs(inputs))
        seg_label = self._stack_batch_gt(batch_data_samples)
        return {
            self.loss_contrast.loss_name:
            self.loss_contrast(embed, seg_logits, seg_label)
        }
