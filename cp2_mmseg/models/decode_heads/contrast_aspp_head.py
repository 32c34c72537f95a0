# Copyright (c) cp2-mmseg contributors. All rights reserved.
from typing import Optional, Tuple

from mmseg.models.decode_heads import ASPPHead
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList
from torch import Tensor

from .contrast_head_mixin import ContrastHeadMixin


@MODELS.register_module()
class ContrastASPPHead(ContrastHeadMixin, ASPPHead):
    """DeepLabV3's ASPP head plus pixel contrast in training.

    The projection reads the head's input (``in_index=3``: the last ResNet
    stage, 1/8 resolution with a D8 backbone), as ``DeepLabV3Contrast`` in
    the official code. Inference is the stock :class:`ASPPHead`.

    Args:
        proj_cfg (dict, optional): :class:`ProjectionHead` options, e.g.
            ``dict(channels=256, proj_type='convmlp')``.
        loss_contrast (dict): The contrast loss config. Defaults to
            ``dict(type='PixelContrastLoss')``.
        **kwargs: :class:`ASPPHead` arguments.
    """

    def __init__(self,
                 proj_cfg: Optional[dict] = None,
                 loss_contrast: dict = dict(type='PixelContrastLoss'),
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self._init_contrast(proj_cfg, loss_contrast)

    def loss(self, inputs: Tuple[Tensor], batch_data_samples: SampleList,
             train_cfg: ConfigType) -> dict:
        seg_logits = self.forward(inputs)
        losses = self.loss_by_feat(seg_logits, batch_data_samples)
        losses.update(
            self._contrast_losses(inputs, seg_logits, batch_data_samples))
        return losses
