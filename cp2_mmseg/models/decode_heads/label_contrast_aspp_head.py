# Copyright (c) cp2-mmseg contributors. All rights reserved.
from mmseg.models.decode_heads import ASPPHead
from mmseg.registry import MODELS

from .label_contrast_head_mixin import LabelContrastHeadMixin


@MODELS.register_module()
class LabelContrastASPPHead(LabelContrastHeadMixin, ASPPHead):
    """DeepLabV3's ASPP head with label-based contrast (Zhao et al.).

    The projection reads the ASPP bottleneck output (``_forward_feature``).
    Arguments: ``proj_cfg``, ``loss_contrast``, ``with_ce`` (see
    :class:`LabelContrastHeadMixin`) and those of :class:`ASPPHead`.
    """
