# Copyright (c) cp2-mmseg contributors. All rights reserved.
from typing import Optional, Tuple

from mmseg.models.decode_heads import FCNHead
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList
from torch import Tensor

from .contrast_head_mixin import ContrastHeadMixin


@MODELS.register_module()
class ContrastFCNHead(ContrastHeadMixin, FCNHead):
    """HRNet's FCN head plus pixel contrast in training.

    With ``input_transform='resize_concat'`` the projection reads the
    concatenated four HRNet branches at 1/4 resolution (270 channels for
    W18, 720 for W48), as ``HRNet_W48_CONTRAST`` in the official code.
    Inference is the stock :class:`FCNHead`.

    Args:
        proj_cfg (dict, optional): :class:`ProjectionHead` options.
        loss_contrast (dict): The contrast loss config.
        **kwargs: :class:`FCNHead` arguments.
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
