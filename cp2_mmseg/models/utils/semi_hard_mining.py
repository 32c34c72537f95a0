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

The ``top_ratio`` cut-offs are per-anchor quantiles estimated on a random
subset of ``num_quantile_samples`` memory entries (exact quantiles would
need the whole similarity matrix at once). The paper's K is not known; the
defaults follow a public re-implementation (1024 positives, 2048
negatives) and are knobs.
"""
from typing import Tuple

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
def semi_hard_sample(anchors: Tensor,
                     labels: Tensor,
                     memory: Tensor,
                     valid: Tensor,
                     top_ratio: float = 0.1,
                     num_pos: int = 1024,
                     num_neg: int = 2048,
                     chunk_classes: int = 4,
                     num_quantile_samples: int = 8192,
                     strategy: str = 'semi-hard'
                     ) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Indices of the sampled semi-hard (or hardest) positives and
    negatives.

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

    Returns:
        tuple: ``pos_idx`` (A, num_pos), ``pos_ok`` (A, num_pos),
        ``neg_idx`` (A, num_neg), ``neg_ok`` (A, num_neg); indices into
        ``memory.flatten(0, 1)``, ``*_ok`` False where fewer entries
        qualified.
    """
    if strategy not in ('semi-hard', 'hardest'):
        raise ValueError(
            f"strategy must be 'semi-hard' or 'hardest', got {strategy!r}")
    num_a = anchors.shape[0]
    num_c, num_t, dim = memory.shape
    device = anchors.device
    flat_valid = valid.flatten()
    valid_idx = flat_valid.nonzero(as_tuple=True)[0]
    if valid_idx.numel() == 0:  # empty memory (first steps): nothing kept
        none = torch.zeros((num_a, num_pos), dtype=torch.long, device=device)
        nneg = torch.zeros((num_a, num_neg), dtype=torch.long, device=device)
        return none, none.bool(), nneg, nneg.bool()
    hardest = strategy == 'hardest'
    if hardest:  # no cut: the ordering itself selects
        neg_thr = anchors.new_full((num_a, ), float('-inf'))
        pos_thr = anchors.new_full((num_a, ), float('inf'))
    else:
        sub = valid_idx[torch.randperm(valid_idx.numel(), device=device)
                        [:num_quantile_samples]]
        sub_sims = anchors @ memory.flatten(0, 1)[sub].to(anchors.dtype).t()
        sub_same = labels[:, None] == (sub // num_t)[None]
        neg_thr = _quantile_thresholds(sub_sims, ~sub_same, top_ratio, True)
        pos_thr = _quantile_thresholds(sub_sims, sub_same, top_ratio, False)
    best = {}
    for name, k in (('pos', num_pos), ('neg', num_neg)):
        best[name] = (anchors.new_full((num_a, k), float('inf')),
                      torch.zeros((num_a, k), dtype=torch.long,
                                  device=device))
    for c0 in range(0, num_c, chunk_classes):
        c1 = min(c0 + chunk_classes, num_c)
        sims = torch.einsum('ad,ctd->act', anchors,
                            memory[c0:c1].to(anchors.dtype)).flatten(1)
        cls = torch.arange(c0, c1, device=device).repeat_interleave(num_t)
        same = labels[:, None] == cls[None]
        ok = valid[c0:c1].flatten()[None]
        eligible = {
            'pos': same & ok & (sims <= pos_thr[:, None]),
            'neg': ~same & ok & (sims >= neg_thr[:, None]),
        }
        base = c0 * num_t
        for name in ('pos', 'neg'):
            if not eligible[name].any():
                continue
            # smallest keys win: random keys sample uniformly among the
            # eligible; for 'hardest' the key is the distance itself
            # (positives: similarity, negatives: minus similarity)
            if hardest:
                keys = (sims if name == 'pos' else -sims).masked_fill(
                    ~eligible[name], float('inf'))
            else:
                keys = torch.rand(sims.shape, device=device).masked_fill_(
                    ~eligible[name], float('inf'))
            idx = torch.arange(base, base + sims.shape[1], device=device)
            prev_keys, prev_idx = best[name]
            all_keys = torch.cat([prev_keys, keys], 1)
            all_idx = torch.cat([prev_idx, idx.expand(num_a, -1)], 1)
            k = prev_keys.shape[1]
            top, pos = all_keys.topk(k, dim=1, largest=False)
            best[name] = (top, all_idx.gather(1, pos))
    pos_keys, pos_idx = best['pos']
    neg_keys, neg_idx = best['neg']
    return pos_idx, torch.isfinite(pos_keys), neg_idx, torch.isfinite(
        neg_keys)


class GatheredSimilarity(torch.autograd.Function):
    """``s[i, j] = anchors[i] . entries[idx[i, j]] / tau``, in anchor
    chunks, never holding an (A, K, D) gather; gradient to anchors only."""

    @staticmethod
    def forward(ctx, anchors: Tensor, entries: Tensor, idx: Tensor,
                tau: float, chunk: int) -> Tensor:
        out = anchors.new_empty(idx.shape)
        for a0 in range(0, anchors.shape[0], chunk):
            sel = entries[idx[a0:a0 + chunk]].to(anchors.dtype)
            out[a0:a0 + chunk] = torch.einsum('ad,akd->ak',
                                              anchors[a0:a0 + chunk], sel)
        ctx.save_for_backward(entries, idx)
        ctx.tau, ctx.chunk = tau, chunk
        return out / tau

    @staticmethod
    def backward(ctx, grad: Tensor):
        entries, idx = ctx.saved_tensors
        grad_anchors = grad.new_empty((idx.shape[0], entries.shape[1]))
        for a0 in range(0, idx.shape[0], ctx.chunk):
            sel = entries[idx[a0:a0 + ctx.chunk]].to(grad.dtype)
            grad_anchors[a0:a0 + ctx.chunk] = torch.einsum(
                'ak,akd->ad', grad[a0:a0 + ctx.chunk], sel)
        return grad_anchors / ctx.tau, None, None, None, None


def gathered_similarity(anchors: Tensor,
                        entries: Tensor,
                        idx: Tensor,
                        tau: float,
                        chunk: int = 64) -> Tensor:
    """Functional form of :class:`GatheredSimilarity`.

    Args:
        anchors (Tensor): (A, D), with grad.
        entries (Tensor): (E, D) memory entries (no grad).
        idx (Tensor): (A, K) indices into ``entries``.
        tau (float): Temperature.
        chunk (int): Anchors per chunk. Defaults to 64.

    Returns:
        Tensor: (A, K) similarities / tau.
    """
    return GatheredSimilarity.apply(anchors, entries, idx, tau, chunk)
