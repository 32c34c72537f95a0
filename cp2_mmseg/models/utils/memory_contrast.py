# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Anchor-vs-memory similarities without storing the similarity matrix.

For A anchors against a class-major memory (C, T, D), the contrast loss only
needs, per anchor, the log-sum-exp of its similarities to every class and the
similarities to its own class. :class:`MemoryClassLSE` computes both in class
chunks and recomputes the chunk in backward, so peak memory is
O(A * chunk * T) instead of O(A * C * T).
"""
from typing import Tuple

import torch
from torch import Tensor


def _chunk_bounds(num_classes: int, chunk: int):
    for start in range(0, num_classes, chunk):
        yield start, min(start + chunk, num_classes)


class MemoryClassLSE(torch.autograd.Function):
    """``(anchors, memory, valid, labels, tau) -> (class_lse, own_sim)``.

    ``class_lse[i, c] = logsumexp_t {a_i . m_ct / tau : valid[c, t]}``
    (``-inf`` for an empty class) and ``own_sim[i, t] = a_i . m_{y_i t}/tau``.
    Gradients flow to ``anchors`` only (the memory is a detached buffer).
    """

    @staticmethod
    def forward(ctx, anchors: Tensor, memory: Tensor, valid: Tensor,
                labels: Tensor, tau: float,
                chunk_classes: int) -> Tuple[Tensor, Tensor]:
        num_a = anchors.shape[0]
        num_c, num_t, _ = memory.shape
        class_lse = anchors.new_full((num_a, num_c), float('-inf'))
        own_sim = anchors.new_zeros((num_a, num_t))
        for c0, c1 in _chunk_bounds(num_c, chunk_classes):
            sim = torch.einsum('ad,ctd->act', anchors,
                               memory[c0:c1].to(anchors.dtype)) / tau
            sim_masked = sim.masked_fill(~valid[c0:c1].unsqueeze(0),
                                         float('-inf'))
            class_lse[:, c0:c1] = torch.logsumexp(sim_masked, dim=2)
            in_chunk = (labels >= c0) & (labels < c1)
            idx = in_chunk.nonzero(as_tuple=True)[0]
            if idx.numel():
                own_sim[idx] = sim[idx, labels[idx] - c0]
        ctx.save_for_backward(anchors, memory, valid, labels, class_lse)
        ctx.tau = tau
        ctx.chunk_classes = chunk_classes
        return class_lse, own_sim

    @staticmethod
    def backward(ctx, grad_lse: Tensor, grad_own: Tensor):
        anchors, memory, valid, labels, class_lse = ctx.saved_tensors
        tau = ctx.tau
        grad_anchors = torch.zeros_like(anchors)
        num_c = memory.shape[0]
        # a class with no valid entry has lse = -inf and no gradient
        safe_lse = torch.where(
            torch.isfinite(class_lse), class_lse, torch.zeros_like(class_lse))
        for c0, c1 in _chunk_bounds(num_c, ctx.chunk_classes):
            mem = memory[c0:c1].to(anchors.dtype)
            sim = torch.einsum('ad,ctd->act', anchors, mem) / tau
            prob = torch.exp(sim - safe_lse[:, c0:c1, None])
            prob = prob * valid[c0:c1].unsqueeze(0)
            grad_sim = prob * grad_lse[:, c0:c1, None]
            in_chunk = (labels >= c0) & (labels < c1)
            idx = in_chunk.nonzero(as_tuple=True)[0]
            if idx.numel():
                grad_sim[idx, labels[idx] - c0] += grad_own[idx]
            grad_anchors += torch.einsum('act,ctd->ad', grad_sim, mem) / tau
        return grad_anchors, None, None, None, None, None


def memory_class_lse(anchors: Tensor,
                     memory: Tensor,
                     valid: Tensor,
                     labels: Tensor,
                     tau: float,
                     chunk_classes: int = 4) -> Tuple[Tensor, Tensor]:
    """Functional form of :class:`MemoryClassLSE`.

    Args:
        anchors (Tensor): (A, D) float32 unit vectors, with grad.
        memory (Tensor): (C, T, D) unit vectors (any float dtype).
        valid (Tensor): (C, T) bool, True where a slot holds an entry.
        labels (Tensor): (A,) long class of each anchor.
        tau (float): Temperature.
        chunk_classes (int): Classes per chunk. Defaults to 4.

    Returns:
        tuple[Tensor, Tensor]: ``class_lse`` (A, C) and ``own_sim`` (A, T).
    """
    return MemoryClassLSE.apply(anchors, memory, valid, labels, tau,
                                max(1, int(chunk_classes)))
