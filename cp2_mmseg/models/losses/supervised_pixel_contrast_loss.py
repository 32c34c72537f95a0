# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""The label-based pixel contrastive loss of Zhao et al. (ICCV 2021).

Every pixel at the (down-sampled) embedding resolution is an anchor. For an
anchor p with positives P_p (same label; the pixel itself included unless
``exclude_self``) and negatives N_p (another label; in ``'cross'`` mode from
p's own image only), unit embeddings f and s_pq = f_p . f_q / T::

    l_pq = -log( e^{s_pq} / (e^{s_pq} + sum_{n in N_p} e^{s_pn}) )
    L_p  = mean_{q in P_p} l_pq
    L    = mean over images of ( mean over anchors with a positive of L_p )

which is ``supervised_pixel_contrastive_loss`` of the official (TF1) code:
``within`` = the loss of each view on its own pixels, summed over the two
views; ``cross`` = each original image paired with the augmented view of a
randomly permuted image, positives from both, negatives from the anchor's
own image. Pairs with an ignored pixel are dropped.
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from ..utils.masked_ops import supcon_anchor_terms
from .pixel_contrast_loss import check_labels, resize_labels


def _chunk_terms(anchors: Tensor, feats: Tensor, a_lbl: Tensor, lbl: Tensor,
                 a_grp: Tensor, grp: Tensor, a_idx: Tensor,
                 temperature: float, exclude_self: bool,
                 ignore_index: int) -> Tuple[Tensor, Tensor]:
    """Loss terms of a chunk of anchors against all pixels of their set.

    Args:
        anchors (Tensor): (B, a, C) unit anchor embeddings (fp32).
        feats (Tensor): (B, M, C) unit embeddings of the whole set.
        a_lbl, lbl (Tensor): (B, a) / (B, M) labels.
        a_grp, grp (Tensor): (B, a) / (B, M) image of each pixel in its set.
        a_idx (Tensor): (a,) positions of the anchors in the set.
        temperature (float): T.
        exclude_self (bool): Drop the pair (p, p) from the positives.
        ignore_index (int): Ignored label.

    Returns:
        tuple[Tensor, Tensor]: (B, a) L_p (0 where undefined) and a (B, a)
        bool mask of the anchors that have a positive.
    """
    sim = torch.bmm(anchors, feats.transpose(1, 2)) / temperature
    valid = (a_lbl != ignore_index)[:, :, None] & (lbl != ignore_index)[:,
                                                                        None]
    same = a_lbl[:, :, None] == lbl[:, None]
    pos = same & valid
    if exclude_self:
        not_self = a_idx[:, None] != torch.arange(
            lbl.shape[1], device=lbl.device)[None]
        pos = pos & not_self[None]
    neg = ~same & valid & (a_grp[:, :, None] == grp[:, None])
    per_anchor, has_pos = supcon_anchor_terms(sim, pos, neg)
    return per_anchor, has_pos


@MODELS.register_module()
class SupervisedPixelContrastLoss(nn.Module):
    """Label-based pixel contrastive loss (Zhao et al., ICCV 2021).

    Args:
        mode (str): ``'within'`` (each view on its own pixels) or
            ``'cross'`` (an image with the augmented view of a permuted
            image). Defaults to 'cross', the official default.
        temperature (float): T. Defaults to 0.07.
        resize_size (tuple[int, int], optional): (h, w) the embeddings are
            bilinearly resized to (align_corners=True) and labels
            nearest-resized to before the loss, as in the official code; the
            paper's value is unknown. None keeps the embedding size.
            Defaults to (64, 64).
        exclude_self (bool): Drop the self pair (p, p) from the positives
            (the official code keeps it). Defaults to False.
        anchor_chunk (int): Anchors per chunk; each chunk's similarities
            are recomputed in backward, so memory is B x chunk x M floats.
            Defaults to 1024.
        num_classes (int, optional): If given, labels are checked to be in
            ``[0, num_classes)`` or ``ignore_index``.
        ignore_index (int): Defaults to 255.
        loss_weight (float): Defaults to 1.0.
        loss_name (str): Defaults to 'loss_spc'.
    """

    def __init__(self,
                 mode: str = 'cross',
                 temperature: float = 0.07,
                 resize_size: Optional[Tuple[int, int]] = (64, 64),
                 exclude_self: bool = False,
                 anchor_chunk: int = 1024,
                 num_classes: Optional[int] = None,
                 ignore_index: int = 255,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_spc') -> None:
        super().__init__()
        if mode not in ('within', 'cross'):
            raise ValueError(
                f"mode must be 'within' or 'cross', got {mode!r}")
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.mode = mode
        self.temperature = temperature
        self.resize_size = tuple(resize_size) if resize_size else None
        self.exclude_self = exclude_self
        self.anchor_chunk = int(anchor_chunk)
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def _prepare(self, embed: Tensor, label: Tensor) -> Tuple[Tensor, Tensor]:
        """(B, C, h, w), (B, H, W) -> (B, N, C) unit fp32, (B, N) labels."""
        if self.resize_size is not None and \
                tuple(embed.shape[2:]) != self.resize_size:
            embed = F.interpolate(
                embed.float(),
                size=self.resize_size,
                mode='bilinear',
                align_corners=True)
        size = tuple(embed.shape[2:])
        label = resize_labels(label, size)
        embed = F.normalize(embed.float().flatten(2), dim=1).transpose(1, 2)
        return embed, label.flatten(1)

    def set_loss(self, feats: Tensor, labels: Tensor,
                 groups: Tensor) -> Tensor:
        """The loss of one set of pixels per batch element.

        Args:
            feats (Tensor): (B, M, C) unit embeddings.
            labels (Tensor): (B, M) labels.
            groups (Tensor): (B, M) the image each pixel comes from
                (negatives only within the same image).

        Returns:
            Tensor: Scalar, the mean over B of the per-set anchor means.
        """
        B, M, _ = feats.shape
        total = feats.new_zeros(B)
        count = feats.new_zeros(B)
        use_ckpt = torch.is_grad_enabled() and feats.requires_grad
        for start in range(0, M, self.anchor_chunk):
            idx = torch.arange(
                start, min(start + self.anchor_chunk, M), device=feats.device)
            args = (feats[:, idx], feats, labels[:, idx], labels,
                    groups[:, idx], groups, idx, self.temperature,
                    self.exclude_self, self.ignore_index)
            if use_ckpt:
                per_anchor, has_pos = checkpoint(
                    _chunk_terms, *args, use_reentrant=False)
            else:
                per_anchor, has_pos = _chunk_terms(*args)
            total = total + (per_anchor * has_pos).sum(1)
            count = count + has_pos.sum(1)
        # official divide_no_nan: a set without any positive counts as 0
        return (total / count.clamp(min=1)).mean()

    def forward(self, embed: Tensor, embed_aug: Tensor, label: Tensor,
                label_aug: Optional[Tensor] = None,
                perm: Optional[Tensor] = None) -> Tensor:
        """The loss of a batch and its augmented view.

        Args:
            embed (Tensor): (B, C, h, w) embeddings of the original images.
            embed_aug (Tensor): (B, C, h, w) embeddings of their augmented
                views (view b of image b).
            label (Tensor): (B, H, W) or (B, 1, H, W) labels of ``embed``.
            label_aug (Tensor, optional): Labels of the augmented views;
                defaults to ``label`` (photometric augmentation).
            perm (Tensor, optional): (B,) the augmented view paired with
                each image in ``'cross'`` mode; random if None.

        Returns:
            Tensor: The weighted loss (fp32 scalar).
        """
        if label.dim() == 4:
            label = label.squeeze(1)
        label_aug = label if label_aug is None else label_aug
        if label_aug.dim() == 4:
            label_aug = label_aug.squeeze(1)
        if embed.shape != embed_aug.shape:
            raise ValueError(
                f'embed {tuple(embed.shape)} and embed_aug '
                f'{tuple(embed_aug.shape)} must have the same shape')
        if self.num_classes is not None:
            for lbl in (label, label_aug):
                check_labels(lbl, self.num_classes, self.ignore_index,
                             owner=type(self).__name__)
        f1, l1 = self._prepare(embed, label)
        f2, l2 = self._prepare(embed_aug, label_aug)
        B, N = l1.shape
        if self.mode == 'within':
            zeros = l1.new_zeros(B, N)
            loss = self.set_loss(f1, l1, zeros) + self.set_loss(f2, l2, zeros)
        else:
            if perm is None:
                perm = torch.randperm(B, device=embed.device)
            feats = torch.cat([f1, f2[perm]], dim=1)
            labels = torch.cat([l1, l2[perm]], dim=1)
            groups = torch.cat([l1.new_zeros(B, N), l1.new_ones(B, N)], 1)
            loss = self.set_loss(feats, labels, groups)
        return self.loss_weight * loss

    def extra_repr(self) -> str:
        return (f'mode={self.mode!r}, temperature={self.temperature}, '
                f'resize_size={self.resize_size}, '
                f'exclude_self={self.exclude_self}, '
                f'loss_weight={self.loss_weight}')
