# Copyright (c) cp2-mmseg contributors. All rights reserved.
import torch
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
