# Copyright (c) cp2-mmseg contributors. All rights reserved.
from typing import Optional

import torch
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import SampleList
from torch import Tensor


@MODELS.register_module()
class LabelContrastEncoderDecoder(EncoderDecoder):
    """An encoder-decoder trained on each image and a jittered view of it.

    The stage-1 segmentor of label-efficient contrastive pretraining (Zhao
    et al., ICCV 2021). In training, ``view_aug`` (colour jitter, so the
    labels stay valid) makes a second view of every image on the device;
    both views go through the backbone as one batch of 2B and the decode
    head (e.g. :class:`LabelContrastSepASPPHead`) receives features whose
    first B rows are the images and last B rows their views. Inference,
    ``predict`` and the checkpoint layout are the stock
    :class:`EncoderDecoder`'s, so stage 2 fine-tunes the same network with
    ``load_from``.

    Args:
        view_aug (dict): Config of the view transform, applied to the
            de-normalised images. Defaults to
            ``dict(type='BatchPhotometricJitter')``.
        **kwargs: The arguments of :class:`EncoderDecoder`.
    """

    def __init__(self,
                 view_aug: dict = dict(type='BatchPhotometricJitter'),
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.view_aug = MODELS.build(view_aug)

    def make_view(self, inputs: Tensor) -> Tensor:
        """The second view of normalised inputs, normalised again."""
        pre = self.data_preprocessor
        mean: Optional[Tensor] = getattr(pre, 'mean', None)
        std: Optional[Tensor] = getattr(pre, 'std', None)
        if not getattr(pre, '_enable_normalize', False) or mean is None:
            raise ValueError(
                'LabelContrastEncoderDecoder needs a data_preprocessor that '
                'normalises with mean/std (SegDataPreProcessor) to jitter '
                'colours in pixel space')
        # images load as BGR; the stock configs convert them (bgr_to_rgb)
        rgb = bool(getattr(pre, 'channel_conversion', False))
        raw = inputs * std + mean
        with torch.no_grad():
            view = self.view_aug(raw, rgb=rgb)
        return (view - mean) / std

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Losses of the images and their views.

        Args:
            inputs (Tensor): (B, 3, H, W) normalised images.
            data_samples (list[SegDataSample]): Their samples (labels).

        Returns:
            dict[str, Tensor]: The decode head's losses (``decode.*``) and,
            if there is an auxiliary head, its losses on the images only.
        """
        both = torch.cat([inputs, self.make_view(inputs)], dim=0)
        x = self.extract_feat(both)
        losses = self._decode_head_forward_train(x, data_samples)
        if self.with_auxiliary_head:
            first = [f[:inputs.shape[0]] for f in x]
            losses.update(
                self._auxiliary_head_forward_train(first, data_samples))
        return losses
