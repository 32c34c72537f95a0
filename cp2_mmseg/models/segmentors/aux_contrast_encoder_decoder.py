# Copyright (c) cp2-mmseg contributors. All rights reserved.
from typing import List, Optional

import torch
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import SampleList
from torch import Tensor


def _defining_class(cls: type, name: str) -> Optional[type]:
    """The class of ``cls``'s MRO that defines attribute ``name``."""
    for klass in cls.__mro__:
        if name in vars(klass):
            return klass
    return None


@MODELS.register_module()
class AuxContrastEncoderDecoder(EncoderDecoder):
    """An encoder-decoder trained with auxiliary-label pixel contrast.

    The model of "Looking beyond single images" (Zhang et al., NeurIPS
    2021) in our formulation: the decode head's features before
    ``conv_seg`` go through a projection head (``aux_proj``) into
    :class:`AuxPixelContrastLoss`, fed by the auxiliary labels and source
    coordinates of two views of every image (:class:`TwoViews`,
    :class:`AuxViewDataPreProcessor`). ``with_ce=False`` is pretraining
    with the contrast alone (stage 1; ``conv_seg`` stays untrained, so DDP
    needs ``find_unused_parameters=True``); ``with_ce=True`` adds the
    stock decode (and auxiliary-head) losses on both views, the joint mode.
    ``predict`` and the checkpoint layout are the stock ``EncoderDecoder``'s
    plus ``aux_proj.*``, so stage 2 fine-tunes the stock model with
    ``load_from`` (the projection keys are reported as unexpected and
    dropped).

    Args:
        proj_cfg (dict): :class:`ProjectionHead` options; ``in_channels``
            is the decode head's ``channels``. Defaults to
            ``dict(channels=256)``.
        loss_aux_contrast (dict): The contrast loss. Defaults to
            ``dict(type='AuxPixelContrastLoss')``.
        with_ce (bool): Also train with the stock decode losses (needs
            ``gt_sem_seg``). Defaults to False.
        **kwargs: The arguments of :class:`EncoderDecoder`.
    """

    def __init__(self,
                 proj_cfg: dict = dict(channels=256),
                 loss_aux_contrast: dict = dict(type='AuxPixelContrastLoss'),
                 with_ce: bool = False,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        head_cls = type(self.decode_head)
        if _defining_class(head_cls, '_forward_feature') is None or \
                _defining_class(head_cls, 'forward') is not _defining_class(
                    head_cls, '_forward_feature'):
            raise TypeError(
                f'AuxContrastEncoderDecoder needs a decode head whose forward '
                f'is cls_seg(_forward_feature(x)) (ASPPHead, FCNHead, '
                f'PSPHead, UPerHead); {head_cls.__name__} is not one')
        self.aux_proj = MODELS.build(
            dict(
                type='ProjectionHead',
                in_channels=self.decode_head.channels,
                **proj_cfg))
        self.loss_aux_contrast = MODELS.build(loss_aux_contrast)
        self.with_ce = with_ce

    @staticmethod
    def _stack(data_samples: SampleList, key: str) -> Tensor:
        missing = [s.metainfo.get('img_path', i)
                   for i, s in enumerate(data_samples) if key not in s]
        if missing:
            raise KeyError(
                f'AuxContrastEncoderDecoder: no {key} for {missing[:3]} '
                f'(add LoadAuxLabel / AddSourceCoords and PackAuxSegInputs '
                'to the train pipeline)')
        return torch.stack([getattr(s, key).data for s in data_samples])

    def _view_meta(self, data_samples: SampleList, key: str,
                   default: List[int]) -> Tensor:
        vals = [s.metainfo.get(key, d) for s, d in zip(data_samples, default)]
        return torch.tensor(vals)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """The auxiliary contrast (and, in the joint mode, decode) losses.

        Args:
            inputs (Tensor): (N, 3, H, W) views, as flattened by
                :class:`AuxViewDataPreProcessor` (2B for B two-view samples).
            data_samples (list[SegDataSample]): With ``gt_aux_label``,
                ``gt_src_coord`` (if the loss uses views) and ``gt_sem_seg``
                (if ``with_ce``).

        Returns:
            dict[str, Tensor]: ``aux.loss_aux_contrast`` and, with CE, the
            stock ``decode.*`` / ``aux.*`` losses.
        """
        x = self.extract_feat(inputs)
        feats = self.decode_head._forward_feature(x)
        embed = self.aux_proj(feats)
        n = len(data_samples)
        aux_label = self._stack(data_samples, 'gt_aux_label')
        coord = image_id = view = None
        if self.loss_aux_contrast.view_positives:
            coord = self._stack(data_samples, 'gt_src_coord')
            image_id = self._view_meta(data_samples, 'view_group',
                                       list(range(n)))
            view = self._view_meta(data_samples, 'view', [0] * n)
        losses = {
            f'contrast.{self.loss_aux_contrast.loss_name}':
            self.loss_aux_contrast(embed, aux_label, coord, image_id, view)
        }
        if self.with_ce:
            seg_logits = self.decode_head.cls_seg(feats)
            decode = self.decode_head.loss_by_feat(seg_logits, data_samples)
            losses.update({f'decode.{k}': v for k, v in decode.items()})
            if self.with_auxiliary_head:
                losses.update(
                    self._auxiliary_head_forward_train(x, data_samples))
        return losses
