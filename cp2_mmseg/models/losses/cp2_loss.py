# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""CP2's two losses (Wang et al., ECCV 2022), functional cores.

Shapes: N images, C channels, P_q / P_k query / key feature cells.
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def masked_pool(feats: Tensor, mask: Tensor) -> Tensor:
    """L2-normalised sum of unit pixel features over the mask.

    Args:
        feats (Tensor): (N, C, P) per-pixel unit vectors.
        mask (Tensor): (N, P) {0, 1}.

    Returns:
        Tensor: (N, C) unit vectors (zero where the mask is empty).
    """
    return F.normalize(
        torch.einsum('ncp,np->nc', feats, mask.to(feats.dtype)), dim=1)


def cp2_instance_loss(q: Tensor, k: Tensor, queue: Tensor,
                      temperature: float = 0.2) -> Tuple[Tensor, Tensor]:
    """MoCo InfoNCE of foreground-pooled queries against keys and a queue.

    Args:
        q (Tensor): (N, C) pooled query embeddings (unit).
        k (Tensor): (N, C) pooled key embeddings (unit, no grad).
        queue (Tensor): (C, K) negatives (unit).
        temperature (float): Defaults to 0.2.

    Returns:
        tuple[Tensor, Tensor]: per-sample loss (N,) and top-1 hit (N,).
    """
    l_pos = torch.einsum('nc,nc->n', q, k).unsqueeze(1)
    l_neg = torch.einsum('nc,ck->nk', q, queue)
    logits = torch.cat([l_pos, l_neg], dim=1) / temperature
    loss = F.cross_entropy(
        logits, logits.new_zeros(logits.shape[0], dtype=torch.long),
        reduction='none')
    return loss, (logits.argmax(1) == 0).float()


def cp2_dense_loss(q: Tensor,
                   k: Tensor,
                   mask_q: Tensor,
                   mask_k: Tensor,
                   temperature: float = 1.0,
                   softmax_over: str = 'query') -> Tuple[Tensor, Tensor]:
    """CP2's pixel-level copy-paste loss, per image.

    ``s(x, y) = q_x . k_y / temperature``. With ``softmax_over='query'`` (the
    official code: ``LogSoftmax(dim=1)`` on N x P_q x P_k) every foreground
    key pixel y is an anchor whose candidates are all query pixels of the
    same composite: foreground query pixels are positives, background ones
    negatives. ``'key'`` swaps the roles. The loss averages ``-log p`` over
    all foreground-foreground pairs of an image.

    Args:
        q (Tensor): (N, C, P_q) unit query pixel embeddings.
        k (Tensor): (N, C, P_k) unit key pixel embeddings.
        mask_q (Tensor): (N, P_q) foreground cells of the query.
        mask_k (Tensor): (N, P_k) foreground cells of the key.
        temperature (float): Defaults to 1 (official: none).
        softmax_over (str): 'query' (official) or 'key'.

    Returns:
        tuple[Tensor, Tensor]: per-image loss (N,) and, per image, whether
        the arg-max of all P_q x P_k similarities is a foreground pair (N,).
    """
    if softmax_over not in ('query', 'key'):
        raise ValueError(f"softmax_over must be 'query' or 'key', got "
                         f'{softmax_over!r}')
    sim = torch.einsum('ncx,ncy->nxy', q, k) / temperature
    log_prob = F.log_softmax(sim, dim=1 if softmax_over == 'query' else 2)
    pair = mask_q.float().unsqueeze(2) * mask_k.float().unsqueeze(1)
    num_pairs = pair.sum((1, 2))
    loss = -(log_prob * pair).sum((1, 2)) / num_pairs.clamp(min=1)
    best = sim.flatten(1).argmax(1)
    hit = pair.flatten(1).gather(1, best[:, None]).squeeze(1)
    return loss, hit
