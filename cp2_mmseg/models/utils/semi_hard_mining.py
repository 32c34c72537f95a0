# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Semi-hard and hardest memory sampling of Wang et al. (ICCV 2021),
Sec. 3.3.

``strategy='semi-hard'`` (the paper's best): for every anchor, keep the
``top_ratio`` nearest negatives and the ``top_ratio`` farthest positives of
the memory, then sample ``num_neg`` / ``num_pos`` of them uniformly.
``strategy='hardest'``: the ``num_neg`` nearest negatives and the
``num_pos`` farthest positives themselves (no sampling, ``top_ratio``
unused). The memory is scanned once without gradient,
in class chunks (bounded peak memory); only the kept entries enter the
loss, through :class:`GatheredSimilarity`, whose backward costs
O(A * K * D) instead of O(A * C * T * D).

Semi-hard negatives come, by default, from a random *pool* of
``negative_pool * num_neg / top_ratio`` memory entries drawn per step
(shared by the anchors) instead of a scan of the whole memory: within the
pool each anchor keeps its exact ``top_ratio`` nearest other-class entries
and samples ``num_neg`` of them. The pool is a uniform random subset
drawn independently of the similarities, so for every anchor the kept set
is a uniform random subset of its semi-hard set, and the sample a uniform
sample of that set (the anchors share one pool, as MoCo's anchors share
one queue). With the default ``negative_pool=1`` the pool's semi-hard
share is about ``num_neg`` entries per anchor (slightly fewer: the
anchor's own class is not a negative), all of which are kept: a uniform
random sample of about K of the anchor's semi-hard negatives, as the paper
asks, for O(A * K / top_ratio) work instead of O(A * C * T). Larger
values draw the K from a larger pool (same distribution, more work). Positives (the own
class, T entries) are scanned exactly. ``negative_pool=None`` scans the
whole memory in class chunks, with cut-offs estimated on
``num_quantile_samples`` random entries (the earlier behaviour), and
'hardest' always scans it (the K nearest of the whole memory).

The paper's K is not known; the defaults follow a public
re-implementation (1024 positives, 2048 negatives) and are knobs.
"""
import math
from typing import Optional, Tuple

import torch
from torch import Tensor


def _quantile_thresholds(sims: Tensor, mask: Tensor, ratio: float,
                         largest: bool) -> Tensor:
    """Per row: the value above (largest) / below which ``ratio`` of the
    masked entries lie; +inf / -inf when a row has no entry (no cut)."""
    fill = float('-inf') if largest else float('inf')
    vals = sims.masked_fill(~mask, fill).sort(dim=1, descending=largest)[0]
    count = mask.sum(1)
    k = torch.clamp(torch.ceil(count.float() * ratio).long() - 1, min=0)
    thr = vals.gather(1, k[:, None]).squeeze(1)
    no_entry = torch.full_like(thr, float('-inf') if largest else float(
        'inf'))
    return torch.where(count > 0, thr, no_entry)


@torch.no_grad()
def mine_memory(anchors: Tensor,
                labels: Tensor,
                memory: Tensor,
                valid: Tensor,
                top_ratio: float = 0.1,
                num_pos: int = 1024,
                num_neg: int = 2048,
                chunk_classes: int = 4,
                num_quantile_samples: int = 8192,
                strategy: str = 'semi-hard',
                negative_pool: Optional[float] = 1.0) -> dict:
    """Semi-hard (or hardest) positives and negatives, with their
    similarities.

    One pass over the memory in class chunks, without gradient. Positives
    are only looked for in the anchor's own class (an (A, T) slab kept
    during the pass); negatives are selected per chunk (top-K of random
    keys among the eligible, or of the similarity for 'hardest') and merged
    with the running selection, so nothing of size (A, C * T) is stored.

    Args:
        anchors (Tensor): (A, D) unit anchors.
        labels (Tensor): (A,) anchor classes.
        memory (Tensor): (C, T, D) class-major memory.
        valid (Tensor): (C, T) filled slots.
        top_ratio (float): Share of nearest negatives / farthest positives
            kept before sampling. Defaults to 0.1.
        num_pos (int): Positives sampled per anchor. Defaults to 1024.
        num_neg (int): Negatives sampled per anchor. Defaults to 2048.
        chunk_classes (int): Classes per chunk. Defaults to 4.
        num_quantile_samples (int): Memory entries used to estimate the
            per-anchor cut-offs. Defaults to 8192.
        strategy (str): 'semi-hard' (sample among the ``top_ratio``
            hardest) or 'hardest' (the K hardest). Defaults to 'semi-hard'.
        negative_pool (float, optional): Semi-hard negatives from a random
            pool of ``negative_pool * num_neg / top_ratio`` entries (see
            the module docstring); None scans the whole memory. Defaults
            to 1.0.

    Returns:
        dict: ``pos_idx`` / ``neg_idx`` (A, K) indices into
        ``memory.flatten(0, 1)``, ``pos_ok`` / ``neg_ok`` (A, K) bool, False
        where fewer entries qualified, and ``pos_sim`` / ``neg_sim`` (A, K)
        the anchor-entry dot products.
    """
    if strategy not in ('semi-hard', 'hardest'):
        raise ValueError(
            f"strategy must be 'semi-hard' or 'hardest', got {strategy!r}")
    num_a = anchors.shape[0]
    num_c, num_t, _ = memory.shape
    device = anchors.device
    inf = float('inf')

    def empty(k):
        return dict(idx=torch.zeros((num_a, k), dtype=torch.long,
                                    device=device),
                    ok=torch.zeros((num_a, k), dtype=torch.bool,
                                   device=device),
                    sim=anchors.new_zeros((num_a, k)))

    valid_idx = valid.flatten().nonzero(as_tuple=True)[0]
    if valid_idx.numel() == 0:  # empty memory (first steps): nothing kept
        pos, neg = empty(num_pos), empty(num_neg)
        return {f'{n}_{k}': v for n, d in (('pos', pos), ('neg', neg))
                for k, v in d.items()}
    hardest = strategy == 'hardest'
    if not hardest and negative_pool is not None:
        return _mine_pooled(anchors, labels, memory, valid, valid_idx,
                            top_ratio, num_pos, num_neg, negative_pool)
    if hardest:  # no cut: the ordering itself selects
        pos_thr = anchors.new_full((num_a, ), inf)
    else:
        sub = valid_idx[torch.randperm(valid_idx.numel(), device=device)
                        [:num_quantile_samples]]
        sub_sims = anchors @ memory.flatten(0, 1)[sub].to(anchors.dtype).t()
        sub_same = labels[:, None] == (sub // num_t)[None]
        neg_thr = _quantile_thresholds(sub_sims, ~sub_same, top_ratio, True)
        pos_thr = _quantile_thresholds(sub_sims, sub_same, top_ratio, False)
    own = anchors.new_zeros((num_a, num_t))  # similarities to own class
    best_key = anchors.new_full((num_a, num_neg), inf)
    best_idx = torch.zeros((num_a, num_neg), dtype=torch.long, device=device)
    best_sim = anchors.new_zeros((num_a, num_neg))
    for c0 in range(0, num_c, chunk_classes):
        c1 = min(c0 + chunk_classes, num_c)
        sims = torch.einsum('ad,ctd->act', anchors,
                            memory[c0:c1].to(anchors.dtype))
        rows = ((labels >= c0) & (labels < c1)).nonzero(as_tuple=True)[0]
        own[rows] = sims[rows, labels[rows] - c0]
        sims = sims.flatten(1)
        # negatives: smallest keys win (random keys sample uniformly among
        # the eligible; 'hardest' ranks by minus the similarity)
        if hardest:  # every filled slot is eligible
            keys = torch.neg(sims)
            keys.masked_fill_(~valid[c0:c1].flatten()[None], inf)
        else:
            keys = torch.rand_like(sims)
            keys.masked_fill_(~(valid[c0:c1].flatten()[None]
                                & (sims >= neg_thr[:, None])), inf)
        keys.view(num_a, c1 - c0, num_t)[rows, labels[rows] - c0] = inf
        k = min(num_neg, keys.shape[1])
        top, pos = keys.topk(k, dim=1, largest=False, sorted=False)
        all_key = torch.cat([best_key, top], 1)
        all_idx = torch.cat([best_idx, pos + c0 * num_t], 1)
        all_sim = torch.cat([best_sim, sims.gather(1, pos)], 1)
        best_key, sel = all_key.topk(
            num_neg, dim=1, largest=False, sorted=False)
        best_idx = all_idx.gather(1, sel)
        best_sim = all_sim.gather(1, sel)
    # positives: within the own class only
    own_ok = valid[labels] & (own <= pos_thr[:, None])
    keys = own if hardest else torch.rand_like(own)
    keys = keys.masked_fill(~own_ok, inf)
    k = min(num_pos, num_t)
    pos_key, pos_t = keys.topk(k, dim=1, largest=False, sorted=False)
    pos = empty(num_pos)
    pos['idx'][:, :k] = labels[:, None] * num_t + pos_t
    pos['ok'][:, :k] = torch.isfinite(pos_key)
    pos['sim'][:, :k] = own.gather(1, pos_t)
    return dict(pos_idx=pos['idx'], pos_ok=pos['ok'], pos_sim=pos['sim'],
                neg_idx=best_idx, neg_ok=torch.isfinite(best_key),
                neg_sim=best_sim)


def _class_groups(labels: Tensor, num_classes: int) -> tuple:
    """Anchors grouped by class for a padded (C, max_n, ...) layout.

    Returns:
        tuple: ``order`` (anchors sorted by class, stable), their classes
        ``lbl``, their ``rank`` within the class, and ``max_n``, the
        largest class count.
    """
    order = torch.argsort(labels, stable=True)
    counts = torch.bincount(labels, minlength=num_classes)
    starts = torch.cumsum(counts, 0) - counts
    lbl = labels[order]
    rank = torch.arange(labels.numel(), device=labels.device) - starts[lbl]
    return order, lbl, rank, int(counts.max())


def own_class_similarities(anchors: Tensor, labels: Tensor,
                           memory: Tensor) -> Tensor:
    """``own[i, t] = a_i . m_{y_i, t}`` for all T slots of each anchor's
    class: one batched product over the classes present (anchors grouped
    by class, padded), O(A * T * D).

    Args:
        anchors (Tensor): (A, D).
        labels (Tensor): (A,) classes.
        memory (Tensor): (C, T, D).

    Returns:
        Tensor: (A, T) in the anchors' dtype.
    """
    num_a, dim = anchors.shape
    num_c = memory.shape[0]
    order, lbl, rank, max_n = _class_groups(labels, num_c)
    # all classes, absent ones as zero rows: no copy of the memory
    padded = anchors.new_zeros((num_c, max_n, dim))
    padded[lbl, rank] = anchors[order]
    mem = memory if memory.dtype == anchors.dtype else memory.to(
        anchors.dtype)
    sims = torch.bmm(padded, mem.transpose(1, 2))  # (C, max_n, T)
    own = torch.empty((num_a, memory.shape[1]), dtype=anchors.dtype,
                      device=anchors.device)
    own[order] = sims[lbl, rank]
    return own


def _sample_among_first(num_rows: int, k_first: Tensor, k_max: int,
                        num: int, device) -> Tuple[Tensor, Tensor]:
    """Per row, ``num`` uniformly random positions among the first
    ``k_first[row]`` of ``k_max`` (fewer when ``k_first`` is smaller).

    Returns:
        tuple[Tensor, Tensor]: positions (rows, num) and ok (rows, num).
    """
    keys = torch.rand((num_rows, k_max), device=device)
    keys.masked_fill_(
        torch.arange(k_max, device=device)[None] >= k_first[:, None],
        float('inf'))
    k = min(num, k_max)
    top, pos = keys.topk(k, dim=1, largest=False, sorted=False)
    out = torch.zeros((num_rows, num), dtype=torch.long, device=device)
    ok = torch.zeros((num_rows, num), dtype=torch.bool, device=device)
    out[:, :k] = pos
    ok[:, :k] = torch.isfinite(top)
    return out, ok


def _mine_pooled(anchors: Tensor, labels: Tensor, memory: Tensor,
                 valid: Tensor, valid_idx: Tensor, top_ratio: float,
                 num_pos: int, num_neg: int, negative_pool: float) -> dict:
    """Semi-hard mining with a random negative pool (see the module doc)."""
    num_a = anchors.shape[0]
    num_c, num_t, dim = memory.shape
    device = anchors.device
    inf = float('inf')
    # negatives: exact top-ratio nearest other-class entries of the pool
    pool_size = min(valid_idx.numel(),
                    int(math.ceil(negative_pool * num_neg / top_ratio)))
    pool = valid_idx[torch.randperm(valid_idx.numel(),
                                    device=device)[:pool_size]]
    entries = memory.flatten(0, 1)[pool]
    if entries.dtype != anchors.dtype:
        entries = entries.to(anchors.dtype)
    sims = torch.mm(anchors, entries.t())  # (A, pool)
    other = labels[:, None] != (pool // num_t)[None]
    sims.masked_fill_(~other, -inf)
    k_neg = torch.ceil(other.sum(1) * top_ratio).long()
    k_max = int(k_neg.max()) if num_a else 0
    if k_max == 0:
        neg_idx = torch.zeros((num_a, num_neg), dtype=torch.long,
                              device=device)
        neg_local = neg_idx
        neg_ok = torch.zeros_like(neg_idx, dtype=torch.bool)
        neg_sim = anchors.new_zeros((num_a, num_neg))
    else:
        near, near_pos = sims.topk(k_max, dim=1, sorted=True)
        sel, neg_ok = _sample_among_first(num_a, k_neg, k_max, num_neg,
                                          device)
        neg_local = near_pos.gather(1, sel)
        neg_idx = pool[neg_local]
        neg_sim = near.gather(1, sel).masked_fill(~neg_ok, 0.)
    # positives: the own class exactly, farthest top-ratio, then sampled
    own = own_class_similarities(anchors, labels, memory)
    own_valid = valid[labels]
    k_pos = torch.ceil(own_valid.sum(1) * top_ratio).long()
    k_pmax = max(int(k_pos.max()), 1)
    far, far_pos = own.masked_fill(~own_valid, inf).topk(
        min(k_pmax, num_t), dim=1, largest=False, sorted=True)
    sel, pos_ok = _sample_among_first(num_a, k_pos, far.shape[1], num_pos,
                                      device)
    pos_t = far_pos.gather(1, sel)
    return dict(
        pos_idx=labels[:, None] * num_t + pos_t,
        pos_ok=pos_ok,
        pos_sim=far.gather(1, sel).masked_fill(~pos_ok, 0.),
        neg_idx=neg_idx,
        neg_ok=neg_ok,
        neg_sim=neg_sim,
        # the same selections in compact index spaces, for dense backward
        pos_slot=pos_t,
        neg_pool=pool,
        neg_local=neg_local)


@torch.no_grad()
def semi_hard_sample(anchors: Tensor,
                     labels: Tensor,
                     memory: Tensor,
                     valid: Tensor,
                     **kwargs) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Indices of the sampled semi-hard (or hardest) positives and
    negatives; see :func:`mine_memory` for the arguments.

    Returns:
        tuple: ``pos_idx`` (A, num_pos), ``pos_ok`` (A, num_pos),
        ``neg_idx`` (A, num_neg), ``neg_ok`` (A, num_neg); indices into
        ``memory.flatten(0, 1)``, ``*_ok`` False where fewer entries
        qualified.
    """
    out = mine_memory(anchors, labels, memory, valid, **kwargs)
    return out['pos_idx'], out['pos_ok'], out['neg_idx'], out['neg_ok']


#: largest (anchors x entries) scatter matrix of a dense backward
DENSE_BACKWARD_LIMIT = 2**26


class OwnClassSimilarity(torch.autograd.Function):
    """``s[i, j] = anchors[i] . memory[labels[i], slot[i, j]] / tau``;
    gradient to the anchors with one scatter into each anchor's own-class
    slab (A, T) and one batched product with the memory, grouped by class
    as :func:`own_class_similarities` (no sparse matrix)."""

    @staticmethod
    def forward(ctx, anchors: Tensor, memory: Tensor, labels: Tensor,
                slot: Tensor, tau: float, values: Tensor) -> Tensor:
        ctx.save_for_backward(memory, labels, slot)
        ctx.tau = tau
        return values.to(anchors.dtype) / tau

    @staticmethod
    def backward(ctx, grad: Tensor):
        memory, labels, slot = ctx.saved_tensors
        num_c, num_t, dim = memory.shape
        num_a = grad.shape[0]
        dense = grad.new_zeros((num_a, num_t)).scatter_add_(1, slot, grad)
        order, lbl, rank, max_n = _class_groups(labels, num_c)
        padded = grad.new_zeros((num_c, max_n, num_t))
        padded[lbl, rank] = dense[order]
        mem = memory if memory.dtype == grad.dtype else memory.to(grad.dtype)
        out = torch.bmm(padded, mem)  # (C, max_n, D)
        grad_a = torch.empty((num_a, dim), dtype=grad.dtype,
                             device=grad.device)
        grad_a[order] = out[lbl, rank]
        return grad_a / ctx.tau, None, None, None, None, None


class GatheredSimilarity(torch.autograd.Function):
    """``s[i, j] = anchors[i] . entries[idx[i, j]] / tau``; gradient to
    anchors only.

    The forward either takes the dot products already computed (``values``,
    e.g. from the mining pass) or computes them in anchor chunks, never
    holding an (A, K, D) gather. The backward is one sparse (A, E) x (E, D)
    product: ``grad_anchors = G @ entries / tau`` with ``G[i, idx[i, j]] =
    grad[i, j]`` (duplicates summed).
    """

    @staticmethod
    def forward(ctx, anchors: Tensor, entries: Tensor, idx: Tensor,
                tau: float, chunk: int,
                values: Optional[Tensor] = None) -> Tensor:
        if values is None:
            values = anchors.new_empty(idx.shape)
            for a0 in range(0, anchors.shape[0], chunk):
                sel = entries[idx[a0:a0 + chunk]].to(anchors.dtype)
                values[a0:a0 + chunk] = torch.einsum(
                    'ad,akd->ak', anchors[a0:a0 + chunk], sel)
        ctx.save_for_backward(entries, idx)
        ctx.tau = tau
        return values.to(anchors.dtype) / tau

    @staticmethod
    def backward(ctx, grad: Tensor):
        entries, idx = ctx.saved_tensors
        num_a, k = idx.shape
        if num_a * entries.shape[0] <= DENSE_BACKWARD_LIMIT:
            # few entries (a pool): scatter into (A, E), one GEMM
            dense = grad.new_zeros((num_a, entries.shape[0]))
            dense.scatter_add_(1, idx, grad)
            return (dense @ entries.to(grad.dtype) / ctx.tau, None, None,
                    None, None, None)
        rows = torch.arange(num_a, device=idx.device).repeat_interleave(k)
        sparse = torch.sparse_coo_tensor(
            torch.stack([rows, idx.flatten()]), grad.flatten(),
            (num_a, entries.shape[0]), check_invariants=False)
        grad_anchors = torch.sparse.mm(sparse, entries.to(grad.dtype))
        return grad_anchors / ctx.tau, None, None, None, None, None


def gathered_similarity(anchors: Tensor,
                        entries: Tensor,
                        idx: Tensor,
                        tau: float,
                        chunk: int = 64,
                        values: Optional[Tensor] = None) -> Tensor:
    """Functional form of :class:`GatheredSimilarity`.

    Args:
        anchors (Tensor): (A, D), with grad.
        entries (Tensor): (E, D) memory entries (no grad).
        idx (Tensor): (A, K) indices into ``entries``.
        tau (float): Temperature.
        chunk (int): Anchors per chunk. Defaults to 64.
        values (Tensor, optional): (A, K) ``anchors[i] . entries[idx[i,
            j]]`` if already known (not divided by tau).

    Returns:
        Tensor: (A, K) similarities / tau.
    """
    return GatheredSimilarity.apply(anchors, entries, idx, tau, chunk,
                                    values)
