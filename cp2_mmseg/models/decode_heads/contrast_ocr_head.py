# Copyright (c) cp2-mmseg contributors. All rights reserved.
from typing import List, Optional

from mmseg.models.decode_heads import OCRHead
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList
from torch import Tensor

from .contrast_head_mixin import ContrastHeadMixin


@MODELS.register_module()
class ContrastOCRHead(ContrastHeadMixin, OCRHead):
    """OCRNet's cascade head (second stage) plus pixel contrast in training.

    The projection reads the concatenated HRNet features (before the
    bottleneck and the OCR blocks); hard anchors come from the final OCR
    logits, as ``HRNet_W48_OCR_CONTRAST`` in the official code. Inference
    is the stock :class:`OCRHead`.

    Args:
        proj_cfg (dict, optional): :class:`ProjectionHead` options.
        loss_contrast (dict): The contrast loss config.
        **kwargs: :class:`OCRHead` arguments.
    """

    def __init__(self,
                 proj_cfg: Optional[dict] = None,
                 loss_contrast: dict = dict(type='PixelContrastLoss'),
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self._init_contrast(proj_cfg, loss_contrast)

    def loss(self, inputs: List[Tensor], prev_output: Tensor,
             batch_data_samples: SampleList, train_cfg: ConfigType) -> dict:
        seg_logits = self.forward(inputs, prev_output)
        losses = self.loss_by_feat(seg_logits, batch_data_samples)
        losses.update(
            self._contrast_losses(inputs, seg_logits, batch_data_samples))
        return losses
