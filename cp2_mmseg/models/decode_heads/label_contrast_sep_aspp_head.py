# Copyright (c) cp2-mmseg contributors. All rights reserved.
from typing import List

import torch
from mmseg.models.decode_heads import DepthwiseSeparableASPPHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import Tensor

from .label_contrast_head_mixin import LabelContrastHeadMixin


@MODELS.register_module()
class LabelContrastSepASPPHead(LabelContrastHeadMixin,
                               DepthwiseSeparableASPPHead):
    """DeepLabV3+'s head (the paper's model) with label-based contrast.

    The projection reads the decoder output (after ``sep_bottleneck``).
    Arguments: ``proj_cfg``, ``loss_contrast``, ``with_ce`` (see
    :class:`LabelContrastHeadMixin`) and those of
    :class:`DepthwiseSeparableASPPHead`.
    """

    def _forward_feature(self, inputs: List[Tensor]) -> Tensor:
        """The decoder output before ``conv_seg`` (the stock forward)."""
        x = self._transform_inputs(inputs)
        aspp_outs = [
            resize(
                self.image_pool(x),
                size=x.size()[2:],
                mode='bilinear',
                align_corners=self.align_corners)
        ]
        aspp_outs.extend(self.aspp_modules(x))
        output = self.bottleneck(torch.cat(aspp_outs, dim=1))
        if self.c1_bottleneck is not None:
            c1_output = self.c1_bottleneck(inputs[0])
            output = resize(
                input=output,
                size=c1_output.shape[2:],
                mode='bilinear',
                align_corners=self.align_corners)
            output = torch.cat([output, c1_output], dim=1)
        return self.sep_bottleneck(output)

    def forward(self, inputs: List[Tensor]) -> Tensor:
        """Segmentation logits, exactly the stock head's."""
        return self.cls_seg(self._forward_feature(inputs))
