# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Supervised pixel contrast (Wang et al., ICCV 2021, "Exploring
Cross-Image Pixel Contrast for Semantic Segmentation").

For an anchor i of class y with positives P_i and negatives N_i (unit
vectors, from the batch and / or the cross-image memory)::

    l_i = -(tau / tau_base) / |P_i| * sum_{j in P_i}
          log( exp(s_ij) / (exp(s_ij) + sum_{k in N_i} exp(s_ik)) )

with ``s = a . b / tau``: each positive is contrasted against itself plus
the negatives only (not the SupCon sum over all other samples). It is
computed in fp32 as ``logsigmoid(s_ij - logsumexp_{N_i} s)``, which never
overflows, also under AMP.
"""
import logging
from typing import Dict, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import all_reduce, get_world_size
from mmengine.logging import MessageHub, print_log
from mmseg.registry import MODELS
from torch import Tensor

from ..utils.grouped_sampling import rank_within_groups
from ..utils.masked_ops import masked_logsumexp
from ..utils.memory_contrast import memory_class_lse
from ..utils.semi_hard_mining import (OwnClassSimilarity,
                                      gathered_similarity, mine_memory)


def resize_labels(seg_label: Tensor, size: Tuple[int, int]) -> Tensor:
    """Nearest-resize (B, H, W) or (B, 1, H, W) labels to ``size``."""
    if seg_label.dim() == 4:
        seg_label = seg_label.squeeze(1)
    if tuple(seg_label.shape[-2:]) == tuple(size):
        return seg_label.long()
    return F.interpolate(
        seg_label.unsqueeze(1).float(), size=size,
        mode='nearest').squeeze(1).long()


def check_labels(labels: Tensor, num_classes: int, ignore_index: int,
                 owner: str = 'PixelContrastLoss') -> None:
    """Raise on label values that are neither classes nor ignored."""
    bad = ((labels < 0) | (labels >= num_classes)) & (labels != ignore_index)
    if bad.any():
        values = torch.unique(labels[bad]).tolist()
        raise ValueError(
            f'{owner}: label values {values} are neither classes '
            f'0..{num_classes - 1} nor ignore_index {ignore_index}')


def _pair_counts(labels: Tensor, num_classes: int,
                 ignore_index: int) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Labelled pixels of (B, N) labels and their (image, class) pairs.

    Returns:
        tuple: flat pixel indices, their classes, their pair ids
        ``image * num_classes + class`` and the pixel count of every pair
        (B * num_classes,).
    """
    flat_lbl = labels.reshape(-1)
    pix = (flat_lbl != ignore_index).nonzero(as_tuple=True)[0]
    cls = flat_lbl[pix]
    pair = (pix // labels.shape[1]) * num_classes + cls
    counts = torch.bincount(pair, minlength=labels.shape[0] * num_classes)
    return pix, cls, pair, counts


def count_pairs(labels: Tensor, num_classes: int, ignore_index: int,
                min_pixels: int) -> int:
    """(image, class) pairs with more than ``min_pixels`` labelled pixels.

    Args:
        labels (Tensor): (B, N) labels at the embedding resolution.
        num_classes (int): Number of classes.
        ignore_index (int): Ignored label.
        min_pixels (int): A pair needs more pixels than this.

    Returns:
        int: The number of pairs :func:`sample_anchors` would sample.
    """
    counts = _pair_counts(labels, num_classes, ignore_index)[3]
    return int((counts > min_pixels).sum())


def sample_anchors(embed: Tensor,
                   labels: Tensor,
                   preds: Tensor,
                   num_classes: int,
                   ignore_index: int = 255,
                   max_samples: int = 1024,
                   max_views: int = 100,
                   min_pixels: Optional[int] = None,
                   hard_ratio: float = 0.5,
                   generator: Optional[torch.Generator] = None,
                   total_pairs: Optional[int] = None
                   ) -> Tuple[Tensor, Tensor]:
    """Segmentation-aware hard anchor sampling, vectorised.

    Every (image, class) pair with more than ``min_pixels`` (default:
    ``max_views``, as in the official code) ground-truth pixels gives
    ``n_view = min(max_samples // num_pairs, max_views)`` anchors, about
    ``hard_ratio`` of them misclassified ("hard") and the rest correctly
    classified ("easy"), topped up from the other kind when one is short.

    Args:
        embed (Tensor): (B, N, D) embeddings.
        labels (Tensor): (B, N) ground truth at embedding resolution.
        preds (Tensor): (B, N) predicted classes at the same resolution.
        num_classes (int): Number of classes.
        ignore_index (int): Ignored label. Defaults to 255.
        max_samples (int): Anchor budget. Defaults to 1024.
        max_views (int): Most anchors per (image, class). Defaults to 100.
        min_pixels (int, optional): A pair needs more pixels than this.
        hard_ratio (float): Share of hard anchors. Defaults to 0.5.
        generator (torch.Generator, optional): Random source.
        total_pairs (int, optional): The number of qualifying (image,
            class) pairs over all processes, when ``max_samples`` is a
            budget shared by all of them: ``n_view`` is then computed from
            it, so every process takes the views one process would take
            for the whole batch. None: this process's pairs (the official
            per-process budget).

    Returns:
        tuple[Tensor, Tensor]: anchors (P * n_view, D) and their labels
        (P * n_view,); both empty when no pair qualifies.
    """
    bsz, _, dim = embed.shape
    min_pixels = max_views if min_pixels is None else min_pixels
    pix, cls, pair, counts = _pair_counts(labels, num_classes, ignore_index)
    num_pair_ids = bsz * num_classes
    chosen = counts > min_pixels
    num_pairs = int(chosen.sum())
    if num_pairs == 0:
        return embed.new_zeros((0, dim)), labels.new_zeros((0, ))
    total_pairs = num_pairs if total_pairs is None else max(
        int(total_pairs), num_pairs)
    n_view = min(max_samples // total_pairs, max_views)
    if n_view == 0:
        # more pairs than budget: keep a random subset of pairs (this
        # process's share of the budget when it is shared)
        budget = max(1, round(max_samples * num_pairs / total_pairs))
        keep = torch.randperm(
            num_pairs, generator=generator,
            device=embed.device)[:budget]
        idx = chosen.nonzero(as_tuple=True)[0][keep]
        chosen = torch.zeros_like(chosen)
        chosen[idx] = True
        num_pairs, n_view = int(chosen.sum()), 1
    hard = (preds.reshape(-1)[pix] != cls).long()
    group = pair * 2 + hard
    group_counts = torch.bincount(group, minlength=2 * num_pair_ids)
    num_easy, num_hard = group_counts[0::2], group_counts[1::2]
    want_hard = int(n_view * hard_ratio)
    take_hard = torch.minimum(num_hard, torch.full_like(num_hard, want_hard))
    take_easy = torch.minimum(num_easy, n_view - take_hard)
    take_hard = n_view - take_easy  # top up from hard when easy is short
    quota = torch.stack([take_easy, take_hard], 1).reshape(-1)
    quota = quota * chosen.repeat_interleave(2)
    order, rank = rank_within_groups(group, 2 * num_pair_ids, generator)
    keep = rank < quota[group[order]]
    sel = order[keep]  # sorted by pair: n_view consecutive per pair
    anchors = embed.reshape(-1, dim)[pix[sel]]
    return anchors, cls[sel]


def pixel_contrast_terms(anchors: Tensor,
                         anchor_labels: Tensor,
                         temperature: float,
                         use_batch: bool = True,
                         memory: Optional[Tensor] = None,
                         memory_valid: Optional[Tensor] = None,
                         memory_chunk_classes: int = 4,
                         memory_mining: Optional[dict] = None,
                         memory_keep_dtype: Optional[str] = None
                         ) -> Tuple[Tensor, Tensor]:
    """Per-anchor sums of log-probabilities over positives, and counts.

    Args:
        anchors (Tensor): (A, D) unit vectors (float32).
        anchor_labels (Tensor): (A,) classes.
        temperature (float): tau.
        use_batch (bool): Contrast with the other anchors.
        memory (Tensor, optional): (C, T, D) class-major memory.
        memory_valid (Tensor, optional): (C, T) bool, filled slots.
        memory_chunk_classes (int): Classes per memory chunk.
        memory_mining (dict, optional): Semi-hard sampling of the memory
            (``top_ratio``, ``num_pos``, ``num_neg``,
            ``num_quantile_samples``, ``strategy``; see :func:`mine_memory`). None
            contrasts with every filled memory slot.
        memory_keep_dtype (str, optional): Whole-memory contrast: keep the
            anchor-memory similarities for backward in this dtype
            ('float16'), or recompute them there (None, default).

    Returns:
        tuple[Tensor, Tensor]: ``sum_{j in P_i} log p_ij`` (A,) and
        ``|P_i|`` (A,).
    """
    num_a = anchors.shape[0]
    neg_lse = []
    pos_sims = []
    pos_masks = []
    if use_batch:
        sim = anchors @ anchors.t() / temperature
        same = anchor_labels[:, None] == anchor_labels[None, :]
        eye = torch.eye(num_a, dtype=torch.bool, device=anchors.device)
        neg_lse.append(masked_logsumexp(sim, ~same, dim=1))
        pos_sims.append(sim)
        pos_masks.append(same & ~eye)
    if memory is not None and memory_mining is not None:
        mined = mine_memory(
            anchors.detach(),
            anchor_labels,
            memory,
            memory_valid,
            chunk_classes=memory_chunk_classes,
            **memory_mining)
        entries = memory.flatten(0, 1)
        if 'neg_pool' in mined:  # pooled semi-hard: compact index spaces
            neg_sim = gathered_similarity(
                anchors, entries[mined['neg_pool']], mined['neg_local'],
                temperature, values=mined['neg_sim'])
            pos_sim = OwnClassSimilarity.apply(anchors, memory,
                                               anchor_labels,
                                               mined['pos_slot'],
                                               temperature, mined['pos_sim'])
        else:
            neg_sim = gathered_similarity(
                anchors, entries, mined['neg_idx'], temperature,
                values=mined['neg_sim'])
            pos_sim = gathered_similarity(
                anchors, entries, mined['pos_idx'], temperature,
                values=mined['pos_sim'])
        neg_lse.append(masked_logsumexp(neg_sim, mined['neg_ok'], dim=1))
        pos_sims.append(pos_sim)
        pos_masks.append(mined['pos_ok'])
    elif memory is not None:
        class_lse, own_sim = memory_class_lse(
            anchors, memory, memory_valid, anchor_labels, temperature,
            memory_chunk_classes,
            getattr(torch, memory_keep_dtype) if memory_keep_dtype else None)
        other = torch.ones_like(class_lse, dtype=torch.bool)
        other[torch.arange(num_a, device=anchors.device), anchor_labels] = 0
        neg_lse.append(masked_logsumexp(class_lse, other, dim=1))
        pos_sims.append(own_sim)
        pos_masks.append(memory_valid[anchor_labels])
    stacked = torch.stack(neg_lse, 1)
    neg = masked_logsumexp(stacked, torch.ones_like(stacked, dtype=bool), 1)
    total = anchors.new_zeros(num_a)
    count = anchors.new_zeros(num_a)
    for sim, mask in zip(pos_sims, pos_masks):
        log_prob = F.logsigmoid(sim - neg[:, None])
        total = total + (log_prob * mask).sum(1)
        count = count + mask.sum(1)
    return total, count


@MODELS.register_module()
class PixelContrastLoss(nn.Module):
    """Pixel-to-pixel / pixel-to-region contrast with hard anchor sampling.

    Called by the contrast heads as ``loss(embed, seg_logits, seg_label)``;
    it is not a ``loss_decode`` entry because it needs the embeddings.

    Args:
        temperature (float): tau. Defaults to 0.1.
        base_temperature (float): The loss is scaled by
            ``temperature / base_temperature`` (official code; set it equal
            to ``temperature`` for the paper's unscaled loss). Defaults to
            0.07.
        loss_weight (float): lambda. Defaults to 0.1.
        ignore_index (int): Ignored label. Defaults to 255.
        max_samples (int): Anchor budget. Defaults to 1024.
        memory_keep_dtype (str, optional): Contrast with the whole memory:
            the similarities of the forward pass are kept for backward in
            this dtype ('float16': 2 bytes per anchor x memory entry, e.g.
            0.39 GB for 1024 anchors x 19 x 10000 entries) instead of
            recomputing the anchor x memory product; None recomputes (one
            more product, peak memory of one class chunk). On the CPU we
            measured recomputing faster (the two half-precision copies
            cost more than the product); on a GPU 'float16' should win
            (not measured). Defaults to None.
        sample_budget (str): ``'per_process'`` (official): every process
            samples up to ``max_samples`` anchors from its own images, so
            the same config takes N times more anchors on N GPUs.
            ``'global'``: ``max_samples`` is shared by all processes (the
            number of qualifying (image, class) pairs is summed over them),
            so the anchors per pair, and the total, are those of one
            process holding the whole batch, whatever the GPU count.
            Defaults to 'per_process'.
        max_views (int): Most anchors per (image, class). Defaults to 100.
        min_pixels (int, optional): An (image, class) pair is sampled when
            it has more pixels than this; default ``max_views`` (official).
        hard_ratio (float): Share of misclassified anchors. Defaults to 0.5.
        contrast_with (str): 'batch' (the other sampled anchors), 'memory'
            (the cross-image memory bank only, as the official memory code)
            or 'both'. Defaults to 'batch'.
        memory_bank (dict | nn.Module, optional): A
            :class:`CrossImageMemoryBank` config; needed for 'memory' and
            'both'. Its buffers are saved in checkpoints.
        warmup_iters (int): Before this training iteration (read from
            mmengine's ``MessageHub``) the loss is 0 with the graph kept
            connected. The memory is still filled. Defaults to 0.
        memory_chunk_classes (int): Classes per chunk when contrasting with
            the memory (bounds peak memory). Defaults to 4.
        memory_mining (dict, optional): The paper's semi-hard memory
            sampling, e.g. ``dict(top_ratio=0.1, num_pos=1024,
            num_neg=2048)``: per anchor, the 10 % nearest negatives and
            farthest positives, then K of each sampled; only those are
            back-propagated. ``strategy='hardest'`` in it keeps the K
            nearest negatives / farthest positives instead. None (default,
            as the official code) uses every filled memory slot.
        loss_name (str): Defaults to 'loss_contrast'.
    """

    def __init__(self,
                 temperature: float = 0.1,
                 base_temperature: float = 0.07,
                 loss_weight: float = 0.1,
                 ignore_index: int = 255,
                 max_samples: int = 1024,
                 max_views: int = 100,
                 min_pixels: Optional[int] = None,
                 hard_ratio: float = 0.5,
                 contrast_with: str = 'batch',
                 memory_bank: Optional[Union[dict, nn.Module]] = None,
                 warmup_iters: int = 0,
                 memory_chunk_classes: int = 4,
                 memory_mining: Optional[dict] = None,
                 memory_keep_dtype: Optional[str] = None,
                 sample_budget: str = 'per_process',
                 loss_name: str = 'loss_contrast') -> None:
        super().__init__()
        if sample_budget not in ('per_process', 'global'):
            raise ValueError(f"sample_budget must be 'per_process' or "
                             f"'global', got {sample_budget!r}")
        self.sample_budget = sample_budget
        #: anchors sampled by this process in the last call (diagnostics)
        self.last_num_anchors = 0
        if contrast_with not in ('batch', 'memory', 'both'):
            raise ValueError(f'contrast_with must be batch, memory or both, '
                             f'got {contrast_with!r}')
        if contrast_with != 'batch' and memory_bank is None:
            raise ValueError(f'contrast_with={contrast_with!r} needs a '
                             'memory_bank config')
        if not loss_name.startswith('loss_'):
            raise ValueError(f'loss_name must start with "loss_", got '
                             f'{loss_name!r}')
        self.temperature = temperature
        self.base_temperature = base_temperature
        self.loss_weight = loss_weight
        self.ignore_index = ignore_index
        self.max_samples = max_samples
        self.max_views = max_views
        self.min_pixels = min_pixels
        self.hard_ratio = hard_ratio
        self.contrast_with = contrast_with
        self.warmup_iters = warmup_iters
        self._warned_no_anchor = False
        self.memory_chunk_classes = memory_chunk_classes
        self.memory_mining = dict(memory_mining) if memory_mining else None
        self.memory_keep_dtype = memory_keep_dtype
        self._loss_name = loss_name
        if memory_bank is not None and not isinstance(memory_bank, nn.Module):
            memory_bank = MODELS.build(memory_bank)
        self.memory_bank = memory_bank

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def _in_warmup(self) -> bool:
        if not self.training or self.warmup_iters <= 0:
            return False
        it = MessageHub.get_current_instance().get_info('iter', 0)
        return it < self.warmup_iters

    def forward(self, embed: Tensor, seg_logits: Tensor,
                seg_label: Tensor) -> Tensor:
        """Compute the weighted loss (and update the memory in training).

        Args:
            embed (Tensor): (B, D, h, w) L2-normalised embeddings.
            seg_logits (Tensor): (B, K, h', w') logits of the head, used for
                hard anchor mining (resized to (h, w) when needed).
            seg_label (Tensor): (B, H, W) or (B, 1, H, W) ground truth.

        Returns:
            Tensor: ``loss_weight * loss`` (a scalar).
        """
        num_classes = seg_logits.shape[1]
        h, w = embed.shape[-2:]
        labels = resize_labels(seg_label, (h, w))
        check_labels(labels, num_classes, self.ignore_index)
        with torch.no_grad():
            if tuple(seg_logits.shape[-2:]) != (h, w):
                seg_logits = F.interpolate(
                    seg_logits.float(), (h, w),
                    mode='bilinear',
                    align_corners=False)
            preds = seg_logits.argmax(1)
        device_type = embed.device.type
        with torch.autocast(device_type=device_type, enabled=False):
            feats = embed.float()
            if self._in_warmup():
                loss = feats.sum() * 0.
            else:
                loss = self._contrast(feats, labels, preds, num_classes)
            if self.memory_bank is not None and self.training:
                self.memory_bank.update(feats.detach(), labels)
        return self.loss_weight * loss

    def _contrast(self, feats: Tensor, labels: Tensor, preds: Tensor,
                  num_classes: int) -> Tensor:
        bsz, dim = feats.shape[:2]
        flat = feats.permute(0, 2, 3, 1).reshape(bsz, -1, dim)
        total_pairs = None
        if self.sample_budget == 'global' and get_world_size() > 1:
            # every rank takes part, even one without a qualifying pair
            count = torch.tensor(
                [count_pairs(labels.reshape(bsz, -1), num_classes,
                             self.ignore_index, self.min_pixels if
                             self.min_pixels is not None else self.max_views)],
                device=feats.device)
            all_reduce(count, op='sum')  # in place
            total_pairs = int(count.item())
        anchors, anchor_labels = sample_anchors(
            flat, labels.reshape(bsz, -1), preds.reshape(bsz, -1),
            num_classes, self.ignore_index, self.max_samples, self.max_views,
            self.min_pixels, self.hard_ratio, total_pairs=total_pairs)
        self.last_num_anchors = int(anchors.shape[0])
        if anchors.shape[0] == 0:
            if self.training and not self._warned_no_anchor:
                self._warned_no_anchor = True
                min_pixels = self.min_pixels if self.min_pixels is not None \
                    else self.max_views
                print_log(
                    f'{self.loss_name}: no (image, class) pair of this batch '
                    f'has more than min_pixels={min_pixels} labelled pixels '
                    f'at the embedding size {feats.shape[2]}x'
                    f'{feats.shape[3]}, so the contrastive loss is 0 for it '
                    '(the official rule). With small inputs or coarse '
                    'embeddings, lower min_pixels (scale it with the '
                    'embedding size). Warned once.',
                    logger='current', level=logging.WARNING)
            return feats.sum() * 0.
        memory = valid = None
        if self.contrast_with in ('memory', 'both'):
            memory, valid = self.memory_bank.contrast_set()
            if memory.shape[0] != num_classes:
                raise ValueError(
                    f'memory_bank has {memory.shape[0]} classes, the head '
                    f'predicts {num_classes}')
        total, count = pixel_contrast_terms(
            anchors,
            anchor_labels,
            self.temperature,
            use_batch=self.contrast_with in ('batch', 'both'),
            memory=memory,
            memory_valid=valid,
            memory_chunk_classes=self.memory_chunk_classes,
            memory_mining=self.memory_mining,
            memory_keep_dtype=self.memory_keep_dtype)
        has_pos = count > 0
        if not has_pos.any():
            return feats.sum() * 0.
        mean_log_prob = total[has_pos] / count[has_pos]
        scale = self.temperature / self.base_temperature
        return -scale * mean_log_prob.mean()

    def extra_repr(self) -> str:
        return (f'temperature={self.temperature}, base_temperature='
                f'{self.base_temperature}, loss_weight={self.loss_weight}, '
                f'contrast_with={self.contrast_with!r}, max_samples='
                f'{self.max_samples}, max_views={self.max_views}, '
                f'sample_budget={self.sample_budget!r}, '
                f'warmup_iters={self.warmup_iters}')
