# Copyright (c) cp2-mmseg contributors. All rights reserved.
from typing import List

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

    Arguments: ``proj_cfg`` and ``loss_contrast`` (see
    :class:`ContrastHeadMixin`) and those of :class:`OCRHead`.
    """

    def loss(self, inputs: List[Tensor], prev_output: Tensor,
             batch_data_samples: SampleList, train_cfg: ConfigType) -> dict:
        seg_logits = self.forward(inputs, prev_output)
        losses = self.loss_by_feat(seg_logits, batch_data_samples)
        losses.update(
            self._contrast_losses(inputs, seg_logits, batch_data_samples))
        return losses
