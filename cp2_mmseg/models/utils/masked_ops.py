# Copyright (c) cp2-mmseg contributors. All rights reserved.
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def masked_logsumexp(x: Tensor, mask: Tensor, dim: int = -1) -> Tensor:
    """``logsumexp`` over the entries where ``mask`` is True.

    Rows with no True entry give ``-inf`` with a zero (never NaN) gradient,
    unlike ``x.masked_fill(~mask, -inf).logsumexp(dim)``.

    Args:
        x (Tensor): Values.
        mask (Tensor): Bool, broadcastable to ``x``.
        dim (int): Reduced dimension.

    Returns:
        Tensor: ``x`` reduced over ``dim``.
    """
    mask = mask & torch.isfinite(x)
    any_valid = mask.any(dim)
    filled = x.masked_fill(~mask, float('-inf'))
    # rows without any valid entry: reduce zeros instead, then mask out
    filled = torch.where(any_valid.unsqueeze(dim), filled,
                         torch.zeros_like(filled))
    lse = torch.logsumexp(filled, dim)
    return torch.where(any_valid, lse, torch.full_like(lse, float('-inf')))


def supcon_anchor_terms(sim: Tensor, pos: Tensor,
                        neg: Tensor) -> Tuple[Tensor, Tensor]:
    """Per-anchor supervised-contrastive terms from masked similarities.

    For anchor p with positives P_p and negatives N_p (masks over the last
    dimension) and scaled similarities s::

        L_p = mean_{q in P_p} -log( e^{s_pq} / (e^{s_pq} + sum_{n in N_p} e^{s_pn}) )

    computed as ``softplus(logsumexp_{N_p} s - s_pq)`` (0 without negatives).

    Args:
        sim (Tensor): (..., a, M) similarities divided by the temperature.
        pos (Tensor): Bool mask of the positives, broadcastable to ``sim``.
        neg (Tensor): Bool mask of the negatives, broadcastable to ``sim``.

    Returns:
        tuple[Tensor, Tensor]: (..., a) L_p (0 where there is no positive)
        and the bool mask of the anchors that have a positive.
    """
    lse_neg = masked_logsumexp(sim, neg, dim=-1)  # -inf: no negative
    pos = pos.expand_as(sim)
    # the pair terms at the positives only (a few % of the pairs)
    idx = pos.nonzero(as_tuple=True)
    pair = F.softplus(lse_neg[idx[:-1]] - sim[idx])
    total = sim.new_zeros(sim.shape[:-1]).index_put(
        idx[:-1], pair, accumulate=True)
    num_pos = pos.sum(-1)
    return total / num_pos.clamp(min=1), num_pos > 0
