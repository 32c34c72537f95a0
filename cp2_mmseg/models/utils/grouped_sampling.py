# Copyright (c) cp2-mmseg contributors. All rights reserved.
from typing import Tuple

import torch


def rank_within_groups(group: torch.Tensor,
                       num_groups: int,
                       generator: torch.Generator = None
                       ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Give each element a uniformly random rank inside its group.

    Vectorised: one random key per element, one sort by (group, key).

    Args:
        group (Tensor): Long tensor (N,) of group ids in ``[0, num_groups)``.
        num_groups (int): Number of groups.
        generator (torch.Generator, optional): Random source.

    Returns:
        tuple[Tensor, Tensor]: ``order`` (N,) that sorts the elements by
        group then random key, and ``rank`` (N,), the rank of
        ``order[k]`` within its group (0 for the first).
    """
    keys = torch.rand(group.shape, generator=generator, device=group.device)
    order = torch.argsort(keys)
    order = order[torch.argsort(group[order], stable=True)]
    counts = torch.bincount(group, minlength=num_groups)
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.arange(group.numel(), device=group.device) - starts[
        group[order]]
    return order, rank
