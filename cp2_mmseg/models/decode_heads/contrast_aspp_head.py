# Copyright (c) cp2-mmseg contributors. All rights reserved.
from mmseg.models.decode_heads import ASPPHead
from mmseg.registry import MODELS

from .contrast_head_mixin import ContrastHeadMixin


@MODELS.register_module()
class ContrastASPPHead(ContrastHeadMixin, ASPPHead):
    """DeepLabV3's ASPP head plus pixel contrast in training.

    The projection reads the head's input (``in_index=3``: the last ResNet
    stage, 1/8 resolution with a D8 backbone), as ``DeepLabV3Contrast`` in
    the official code. Inference is the stock :class:`ASPPHead`. Arguments:
    ``proj_cfg`` and ``loss_contrast`` (see :class:`ContrastHeadMixin`) and
    those of :class:`ASPPHead`.
    """
