# Copyright (c) cp2-mmseg contributors. All rights reserved.
from mmseg.models.decode_heads import FCNHead
from mmseg.registry import MODELS

from .contrast_head_mixin import ContrastHeadMixin


@MODELS.register_module()
class ContrastFCNHead(ContrastHeadMixin, FCNHead):
    """HRNet's FCN head plus pixel contrast in training.

    With ``input_transform='resize_concat'`` the projection reads the
    concatenated four HRNet branches at 1/4 resolution (270 channels for
    W18, 720 for W48), as ``HRNet_W48_CONTRAST`` in the official code.
    Inference is the stock :class:`FCNHead`. Arguments: ``proj_cfg`` and
    ``loss_contrast`` (see :class:`ContrastHeadMixin`) and those of
    :class:`FCNHead`.
    """
