# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Cross-image pixel contrast with auxiliary labels (Zhang et al., 2021).

Auxiliary labels (clusters of an extractor's features, outliers = ignore)
pick positives and negatives across images. Our formulation (the paper's
body is not available; see docs/beyond_single.md): each rank samples
anchors among its pixels that have an auxiliary label; the contrast set is
every pixel of every view on every rank. For anchor p and pixel q (q != p):

* q is a **positive** if it has p's auxiliary label (any image, any view,
  any rank), or if it is the same source pixel of p's image in the other
  view, whatever q's label (the two cells' source coordinates differ by
  less than ``match_ratio`` times the coarser view's cell size in both
  axes: at the coarser grid they are the same pixel);
* q is a **negative** if it has another auxiliary label and is not such a
  match, in any image (not only p's own: that restriction of Zhao et al.'s
  cross-image code would leave the other images with positives only);
* outliers (``ignore_index``) are never anchors and never pair by label.

With unit embeddings and s_pq = f_p . f_q / T, the loss of an anchor is the
mean over its positives of ``-log(e^{s_pq} / (e^{s_pq} + sum_n e^{s_pn}))``
(Zhao et al.'s form: each positive competes with the negatives only),
averaged over the anchors that have a positive and a negative. Other ranks' embeddings enter without gradient (the
usual all-gather); each rank's loss is the mean over its own anchors.
"""
import warnings
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine import dist
from mmseg.registry import MODELS
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from ..utils.masked_ops import supcon_anchor_terms
from .pixel_contrast_loss import resize_labels


def cell_size(coord: Tensor) -> Tensor:
    """Source pixels between neighbouring cells of each view's grid.

    Args:
        coord (Tensor): (N, 2, h, w) source ``(y, x)`` of every cell, -1
            where there is none (padding).

    Returns:
        Tensor: (N,) the mean distance between horizontally (else
        vertically) adjacent valid cells, 1 where a view has neither.
    """
    valid = coord[:, 0] >= 0
    out = coord.new_ones(coord.shape[0])
    for dim, axis in ((3, 1), (2, 0)):  # along x (uses x), along y (uses y)
        c = coord[:, axis]
        both = valid.narrow(dim - 1, 1, valid.shape[dim - 1] - 1) & \
            valid.narrow(dim - 1, 0, valid.shape[dim - 1] - 1)
        step = (c.narrow(dim - 1, 1, c.shape[dim - 1] - 1) -
                c.narrow(dim - 1, 0, c.shape[dim - 1] - 1)).abs()
        n = both.flatten(1).sum(1)
        mean = (step * both).flatten(1).sum(1) / n.clamp(min=1)
        out = torch.where((n > 0) & (out == 1) & (mean > 0), mean, out)
    return out


def _aux_chunk(anchors: Tensor, feats: Tensor, a_idx: Tensor, a_lbl: Tensor,
               lbl: Tensor, a_coord: Tensor, a_cell: Tensor, cand: Tensor,
               cand_ok: Tensor, local_coord: Tensor, local_cell: Tensor,
               offset: int, temperature: float, ratio: float,
               ignore_index: int) -> Tuple[Tensor, Tensor]:
    """Loss terms of a chunk of anchors against the whole contrast set.

    ``cand`` (a, hw) are the local pixels of each anchor's partner view
    (the other view of its image, on this rank), ``cand_ok`` which of them
    exist; the view matches are found among them only.
    """
    sim = (anchors / temperature) @ feats.t()  # T folded: one pass less
    lab_ok = (lbl != ignore_index)[None]
    same = a_lbl[:, None] == lbl[None]
    cols = torch.arange(lbl.shape[0], device=lbl.device)
    not_self = a_idx[:, None] != cols[None]
    match = torch.zeros_like(same)
    if cand.numel():
        c = cand.clamp(min=0)
        dist_inf = (a_coord[:, None] - local_coord[c]).abs().amax(-1)
        radius = ratio * torch.maximum(a_cell[:, None], local_cell[c])
        ok = cand_ok & (a_coord[:, None, 0] >= 0) & \
            (local_coord[c][..., 0] >= 0) & (dist_inf < radius)
        rows, j = ok.nonzero(as_tuple=True)
        match[rows, c[rows, j] + offset] = True
    pos = ((same & lab_ok) | match) & not_self
    neg = ~same & lab_ok & ~match
    per_anchor, has_pos = supcon_anchor_terms(sim, pos, neg)
    # an anchor without negatives has the constant term log 1 = 0: left out
    return per_anchor, has_pos & neg.any(-1)


def _gather_rows(local: Tensor, sizes: Tensor) -> Tensor:
    """All ranks' rows (rank order), this rank's own keeping its gradient."""
    if dist.get_world_size() == 1:
        return local
    max_n = int(sizes.max())
    padded = local.detach().new_zeros((max_n, ) + tuple(local.shape[1:]))
    padded[:local.shape[0]] = local.detach()
    parts = [
        g[:int(n)] for g, n in zip(dist.all_gather(padded), sizes.tolist())
    ]
    rank = dist.get_rank()
    parts[rank] = local
    return torch.cat(parts, dim=0)


@MODELS.register_module()
class AuxPixelContrastLoss(nn.Module):
    """Pixel contrast with auxiliary labels across images and views.

    Args:
        temperature (float): T; the paper's value is unknown, 0.07 is
            Zhao et al.'s. Defaults to 0.07.
        max_anchors (int): Anchors sampled uniformly per rank among the
            pixels with an auxiliary label. Defaults to 1024.
        view_positives (bool): Count the same source pixel in the other
            view as a positive (the paper's cross-view positives). Needs
            ``src_coord``. Defaults to True.
        match_ratio (float): Two cells of the two views match when their
            source coordinates are closer than this times the coarser
            view's cell size (0.5: the same cell of the coarser grid).
            Defaults to 0.5.
        anchor_chunk (int): Anchors per chunk; each chunk's a x M
            similarities are recomputed in backward. Defaults to 512.
        num_aux (int, optional): If given, auxiliary labels are checked to
            be in ``[0, num_aux)`` or ``ignore_index``.
        ignore_index (int): Outliers and padding. Defaults to 255.
        loss_weight (float): Defaults to 1.0.
        loss_name (str): Defaults to 'loss_aux_contrast'.
    """

    def __init__(self,
                 temperature: float = 0.07,
                 max_anchors: int = 1024,
                 view_positives: bool = True,
                 match_ratio: float = 0.5,
                 anchor_chunk: int = 512,
                 num_aux: Optional[int] = None,
                 ignore_index: int = 255,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_aux_contrast') -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        if max_anchors < 1 or anchor_chunk < 1:
            raise ValueError('max_anchors and anchor_chunk must be >= 1, got '
                             f'{max_anchors} and {anchor_chunk}')
        self.temperature = temperature
        self.max_anchors = int(max_anchors)
        self.view_positives = view_positives
        self.match_ratio = match_ratio
        self.anchor_chunk = int(anchor_chunk)
        self.num_aux = num_aux
        self.ignore_index = ignore_index
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def _check(self, aux_label: Tensor) -> None:
        if self.num_aux is None:
            return
        bad = ((aux_label < 0) | (aux_label >= self.num_aux)) & \
            (aux_label != self.ignore_index)
        if bad.any():
            values = torch.unique(aux_label[bad]).tolist()
            raise ValueError(
                f'{type(self).__name__}: auxiliary label values {values} are '
                f'neither 0..{self.num_aux - 1} nor ignore_index '
                f'{self.ignore_index}')

    def forward(self,
                embed: Tensor,
                aux_label: Tensor,
                src_coord: Optional[Tensor] = None,
                image_id: Optional[Tensor] = None,
                view: Optional[Tensor] = None,
                generator: Optional[torch.Generator] = None) -> Tensor:
        """The loss of a batch of views.

        Args:
            embed (Tensor): (N, C, h, w) pixel embeddings of N views.
            aux_label (Tensor): (N, H, W) or (N, 1, H, W) auxiliary labels
                at input resolution (nearest-resized to h x w).
            src_coord (Tensor, optional): (N, 2, H, W) source ``(y, x)`` of
                each input pixel, -1 for padding. Needed when
                ``view_positives``.
            image_id (Tensor, optional): (N,) which image each view shows
                (the two views of one image share it); unique per rank.
            view (Tensor, optional): (N,) 0 / 1, which view it is.
            generator (torch.Generator, optional): For anchor sampling.

        Returns:
            Tensor: The weighted loss (fp32 scalar).
        """
        N, _, h, w = embed.shape
        if aux_label.dim() == 4:
            aux_label = aux_label.squeeze(1)
        self._check(aux_label)
        device = embed.device
        # int32 labels: the a x M comparisons move half the bytes
        lbl = resize_labels(aux_label, (h, w)).flatten().int()
        feats = F.normalize(embed.float(), dim=1).flatten(2).transpose(
            1, 2).reshape(N * h * w, -1)
        use_views = self.view_positives
        if use_views and (src_coord is None or image_id is None
                          or view is None):
            raise ValueError(
                f'{type(self).__name__}: view_positives needs src_coord, '
                'image_id and view')
        rank, world = dist.get_rank(), dist.get_world_size()

        def per_pix(t: Tensor) -> Tensor:
            return t.to(device).view(N, 1).expand(N, h * w).flatten()

        if use_views:
            c = F.interpolate(src_coord.float(), size=(h, w), mode='nearest')
            cell = per_pix(cell_size(c))
            coord = c.permute(0, 2, 3, 1).reshape(N * h * w, 2)
        else:
            coord = feats.new_full((N * h * w, 2), -1.)
            cell = feats.new_ones(N * h * w)
        valid = (lbl != self.ignore_index).nonzero().squeeze(1)
        if valid.numel() > self.max_anchors:
            pick = torch.randperm(valid.numel(), device=device,
                                  generator=generator)[:self.max_anchors]
            valid = valid[pick]
        # the contrast set: every pixel of every rank
        sizes = torch.tensor([lbl.numel()], device=device)
        if world > 1:
            sizes = torch.cat(dist.all_gather(sizes))
        offset = int(sizes[:rank].sum())
        all_feats = _gather_rows(feats, sizes)
        all_lbl = _gather_rows(lbl, sizes)
        if valid.numel() == 0:
            warnings.warn(f'{type(self).__name__}: no pixel of this batch has '
                          'an auxiliary label (all outliers / padding); the '
                          'loss is 0')
            return embed.sum() * 0.
        # each anchor's candidate view matches: its partner view's pixels
        hw = h * w
        if use_views:  # both views of an image are on this rank
            local_img = image_id.to(device).long().view(N)
            local_view = view.to(device).long().view(N)
            pair = (local_img[:, None] == local_img[None]) & \
                (local_view[:, None] != local_view[None])
            has_partner = pair.any(1)
            partner = pair.float().argmax(1)
            a_row = valid // hw
            cand = partner[a_row][:, None] * hw + torch.arange(
                hw, device=device)[None]
            cand_ok = has_partner[a_row][:, None].expand_as(cand)
        else:
            cand = valid.new_zeros(valid.numel(), 0)
            cand_ok = torch.zeros_like(cand, dtype=torch.bool)
        total = feats.new_zeros(())
        count = feats.new_zeros(())
        use_ckpt = torch.is_grad_enabled() and feats.requires_grad
        for start in range(0, valid.numel(), self.anchor_chunk):
            idx = valid[start:start + self.anchor_chunk]
            sl = slice(start, start + self.anchor_chunk)
            args = (feats[idx], all_feats, idx + offset, lbl[idx], all_lbl,
                    coord[idx], cell[idx], cand[sl], cand_ok[sl], coord,
                    cell, offset, self.temperature, self.match_ratio,
                    self.ignore_index)
            if use_ckpt:
                per_anchor, has_pos = checkpoint(
                    _aux_chunk, *args, use_reentrant=False)
            else:
                per_anchor, has_pos = _aux_chunk(*args)
            total = total + (per_anchor * has_pos).sum()
            count = count + has_pos.sum()
        return self.loss_weight * total / count.clamp(min=1)

    def extra_repr(self) -> str:
        return (f'temperature={self.temperature}, '
                f'max_anchors={self.max_anchors}, '
                f'view_positives={self.view_positives}, '
                f'match_ratio={self.match_ratio}, '
                f'loss_weight={self.loss_weight}')
