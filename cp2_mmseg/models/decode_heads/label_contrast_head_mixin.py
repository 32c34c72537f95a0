# Copyright (c) cp2-mmseg contributors. All rights reserved.
from typing import Optional, Sequence

from mmseg.models.utils import resize
from mmseg.utils import ConfigType, SampleList

from .contrast_head_mixin import init_contrast_modules


class LabelContrastHeadMixin:
    """Stage 1 of label-efficient contrastive pretraining for a decode head.

    Zhao et al. (ICCV 2021): a projection head (1x1 conv 256, BN, ReLU, 1x1
    conv 256, L2 norm) reads the decoder output, i.e. the features the
    stock ``conv_seg`` classifies (the head's ``_forward_feature``), and
    :class:`SupervisedPixelContrastLoss` contrasts the images with their
    jittered views. No cross-entropy by default (the paper's stage 1), so
    ``conv_seg`` is left for stage 2. ``forward``/``predict`` are the stock
    head's: the checkpoint fine-tunes as the plain model (``load_from``;
    the projection weights are ignored).

    Needs :class:`LabelContrastEncoderDecoder`, which passes the features
    of both views (2B rows for B samples).

    Args:
        proj_cfg (dict, optional): :class:`ProjectionHead` options;
            defaults to ``dict(channels=256, hidden_channels=256)``,
            ``in_channels`` is the head's ``channels``.
        loss_contrast (dict): The contrast loss. Defaults to
            ``dict(type='SupervisedPixelContrastLoss')``; its
            ``num_classes`` and ``ignore_index`` default to the head's.
        with_ce (bool): Also apply the stock decode loss to the images
            (a joint variant, not the paper's stage 1). Defaults to False.
        project_after_resize (bool): The official order: the decoder
            features are bilinearly resized (align_corners=True) to the
            loss's ``resize_size`` and then projected, so the projection's
            BatchNorm sees the resized map and the projection runs at the
            (smaller) loss resolution. False projects at the decoder
            resolution and lets the loss resize and re-normalise the
            embeddings (another function, and ~4x the projection cost on
            Cityscapes). Defaults to True.
        **kwargs: The arguments of the stock head.
    """

    def __init__(self,
                 proj_cfg: Optional[dict] = None,
                 loss_contrast: dict = dict(
                     type='SupervisedPixelContrastLoss'),
                 with_ce: bool = False,
                 project_after_resize: bool = True,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        proj_cfg = dict(proj_cfg or dict(channels=256, hidden_channels=256))
        # the projection reads the decoder output, not the head's inputs
        proj_cfg.setdefault('in_channels', self.channels)
        loss_contrast = dict(loss_contrast)
        loss_contrast.setdefault('num_classes', self.num_classes)
        init_contrast_modules(self, proj_cfg, loss_contrast)
        self.with_ce = with_ce
        self.project_after_resize = project_after_resize

    def embed(self, feats):
        """Pixel embeddings of decoder features, in the configured order.

        Args:
            feats (Tensor): (N, channels, h, w) decoder output.

        Returns:
            Tensor: (N, D, h', w') unit embeddings; (h', w') is the loss's
            ``resize_size`` when ``project_after_resize``.
        """
        size = getattr(self.loss_contrast, 'resize_size', None)
        if self.project_after_resize and size is not None and tuple(
                feats.shape[2:]) != tuple(size):
            feats = resize(
                feats, size=size, mode='bilinear', align_corners=True)
        return self.projection(feats)

    def loss(self, inputs: Sequence, batch_data_samples: SampleList,
             train_cfg: ConfigType) -> dict:
        """The contrast loss of the images (first B rows) and their views.

        Args:
            inputs (list[Tensor]): Backbone features of 2B images.
            batch_data_samples (list[SegDataSample]): The B samples.
            train_cfg (dict): Unused.

        Returns:
            dict[str, Tensor]: ``loss_spc`` (the loss's ``loss_name``) and,
            with ``with_ce``, the stock decode losses.
        """
        num = len(batch_data_samples)
        if inputs[0].shape[0] != 2 * num:
            raise ValueError(
                f'{type(self).__name__} needs the features of each image and '
                f'of its view ({2 * num} rows for {num} samples, got '
                f'{inputs[0].shape[0]}): use it in a '
                "LabelContrastEncoderDecoder (model.type)")
        feats = self._forward_feature(list(inputs))
        embed = self.embed(feats)
        label = self._stack_batch_gt(batch_data_samples)
        losses = {
            self.loss_contrast.loss_name:
            self.loss_contrast(embed[:num], embed[num:], label)
        }
        if self.with_ce:
            losses.update(
                self.loss_by_feat(self.cls_seg(feats[:num]),
                                  batch_data_samples))
        return losses
