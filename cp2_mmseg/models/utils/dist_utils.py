# Copyright (c) cp2-mmseg contributors. All rights reserved.
from typing import List

import torch
from mmengine import dist


def all_gather_cat(tensor: torch.Tensor) -> torch.Tensor:
    """All-gather tensors whose first dimension differs across ranks.

    Every rank pads its tensor to the largest first dimension, gathers, and
    trims, so ranks may contribute different numbers of rows (or none).
    With one process this returns ``tensor`` itself.

    Args:
        tensor (Tensor): Shape (N_rank, ...), same trailing shape and dtype
            on every rank.

    Returns:
        Tensor: The rows of all ranks, rank 0 first, shape (sum N, ...).
    """
    if dist.get_world_size() == 1:
        return tensor
    size = torch.tensor([tensor.shape[0]], device=tensor.device)
    sizes: List[torch.Tensor] = dist.all_gather(size)
    max_size = int(max(s.item() for s in sizes))
    padded = tensor.new_zeros((max_size, ) + tuple(tensor.shape[1:]))
    padded[:tensor.shape[0]] = tensor
    gathered = dist.all_gather(padded)
    return torch.cat(
        [g[:int(s.item())] for g, s in zip(gathered, sizes)], dim=0)
