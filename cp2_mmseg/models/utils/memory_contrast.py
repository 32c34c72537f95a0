# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Anchor-vs-memory similarities without a float32 similarity matrix.

For A anchors against a class-major memory (C, T, D), the contrast loss only
needs, per anchor, the log-sum-exp of its similarities to every class and the
similarities to its own class. :class:`MemoryClassLSE` computes both in class
chunks. The unavoidable work is one similarity product in forward and one
gradient product in backward; the similarities are kept for backward in half
precision (``keep_dtype``, 2 bytes per anchor-entry pair instead of a third
product), or recomputed there (``keep_dtype=None``: peak memory
O(A * chunk * T) only, one more product).
"""
from typing import Optional, Tuple

import torch
from torch import Tensor


def _chunk_bounds(num_classes: int, chunk: int):
    for start in range(0, num_classes, chunk):
        yield start, min(start + chunk, num_classes)


def _chunk_sims(scaled: Tensor, memory: Tensor, c0: int, c1: int,
                out: Tensor) -> Tensor:
    """(A, c1 - c0, T) ``scaled . m`` for the classes c0..c1: one GEMM
    written into ``out`` (a reused buffer, no fresh allocation)."""
    num_t, dim = memory.shape[1:]
    mem = memory[c0:c1].reshape(-1, dim)
    if mem.dtype != scaled.dtype:
        mem = mem.to(scaled.dtype)
    view = out[:, :mem.shape[0]]
    torch.mm(scaled, mem.t(), out=view)
    return view.view(scaled.shape[0], c1 - c0, num_t)


#: below this ``1 / tau`` the log-sum-exp needs no max shift: unit vectors
#: give ``|s| <= 1 / tau``, and ``exp(60)`` times any memory size stays far
#: from float32's range
NO_SHIFT_MAX_INV_TAU = 60.0


class MemoryClassLSE(torch.autograd.Function):
    """``(anchors, memory, valid, labels, tau) -> (class_lse, own_sim)``.

    ``class_lse[i, c] = logsumexp_t {a_i . m_ct / tau : valid[c, t]}``
    (``-inf`` for an empty class) and ``own_sim[i, t] = a_i . m_{y_i t}/tau``.
    Gradients flow to ``anchors`` only (the memory is a detached buffer).

    Per class chunk, forward: one GEMM into a reused buffer, the half copy
    for backward, ``exp`` and a sum (``|s| <= 1 / tau`` for unit vectors,
    so no max pass while ``1 / tau <= 60``); backward: the half copy read
    back, ``s - lse + log g`` and ``exp`` in place, one GEMM.
    """

    @staticmethod
    def forward(ctx, anchors: Tensor, memory: Tensor, valid: Tensor,
                labels: Tensor, tau: float, chunk_classes: int,
                keep_dtype: Optional[torch.dtype]) -> Tuple[Tensor, Tensor]:
        num_a = anchors.shape[0]
        num_c, num_t, _ = memory.shape
        scaled = anchors / tau  # 1/tau folded into the (small) anchors
        plain_exp = 1.0 / tau <= NO_SHIFT_MAX_INV_TAU
        class_lse = anchors.new_full((num_a, num_c), float('-inf'))
        own_sim = anchors.new_zeros((num_a, num_t))
        kept = None if keep_dtype is None else anchors.new_empty(
            (num_a, num_c, num_t), dtype=keep_dtype)
        buf = anchors.new_empty((num_a, min(chunk_classes, num_c) * num_t))
        all_valid = bool(valid.all())
        for c0, c1 in _chunk_bounds(num_c, chunk_classes):
            sim = _chunk_sims(scaled, memory, c0, c1, buf)
            if kept is not None:
                kept[:, c0:c1].copy_(sim)
            rows = ((labels >= c0) & (labels < c1)).nonzero(as_tuple=True)[0]
            if rows.numel():
                own_sim[rows] = sim[rows, labels[rows] - c0]
            if not all_valid:
                sim.masked_fill_(~valid[c0:c1].unsqueeze(0), float('-inf'))
            if plain_exp:
                class_lse[:, c0:c1] = sim.exp_().sum(2).log_()
            else:
                class_lse[:, c0:c1] = torch.logsumexp(sim, dim=2)
        ctx.save_for_backward(anchors, memory, valid, labels, class_lse,
                              kept if kept is not None else
                              anchors.new_empty(0))
        ctx.tau = tau
        ctx.chunk_classes = chunk_classes
        ctx.keep = kept is not None
        ctx.all_valid = all_valid
        return class_lse, own_sim

    @staticmethod
    def backward(ctx, grad_lse: Tensor, grad_own: Tensor):
        anchors, memory, valid, labels, class_lse, kept = ctx.saved_tensors
        tau = ctx.tau
        num_a = anchors.shape[0]
        num_c, num_t, dim = memory.shape
        grad_anchors = torch.zeros_like(anchors)
        scaled = None if ctx.keep else anchors / tau
        # softmax weight x upstream gradient in one exponent when the
        # gradient is >= 0 (the contrast loss's): exp(s - lse + log g)
        finite = torch.isfinite(class_lse)
        offset = torch.where(finite, class_lse, torch.zeros_like(class_lse))
        log_weight = bool((grad_lse >= 0).all())
        if log_weight:
            offset = offset - torch.log(grad_lse)  # g = 0: +inf -> weight 0
        offset = offset.masked_fill(~finite, float('inf'))
        buf = anchors.new_empty(
            (num_a, min(ctx.chunk_classes, num_c) * num_t))
        for c0, c1 in _chunk_bounds(num_c, ctx.chunk_classes):
            n = (c1 - c0) * num_t
            prob = buf[:, :n].view(num_a, c1 - c0, num_t)
            if ctx.keep:
                prob.copy_(kept[:, c0:c1])
            else:
                _chunk_sims(scaled, memory, c0, c1, buf)
            prob.sub_(offset[:, c0:c1, None]).exp_()
            if not ctx.all_valid:
                prob.mul_(valid[c0:c1].unsqueeze(0))
            if not log_weight:
                prob.mul_(grad_lse[:, c0:c1, None])
            rows = ((labels >= c0) & (labels < c1)).nonzero(as_tuple=True)[0]
            if rows.numel():
                prob[rows, labels[rows] - c0] += grad_own[rows]
            mem = memory[c0:c1].reshape(-1, dim)
            if mem.dtype != anchors.dtype:
                mem = mem.to(anchors.dtype)
            grad_anchors.addmm_(buf[:, :n], mem)
        return grad_anchors / tau, None, None, None, None, None, None


def memory_class_lse(anchors: Tensor,
                     memory: Tensor,
                     valid: Tensor,
                     labels: Tensor,
                     tau: float,
                     chunk_classes: int = 4,
                     keep_dtype: Optional[torch.dtype] = None
                     ) -> Tuple[Tensor, Tensor]:
    """Functional form of :class:`MemoryClassLSE`.

    Args:
        anchors (Tensor): (A, D) float32 unit vectors, with grad.
        memory (Tensor): (C, T, D) unit vectors (any float dtype).
        valid (Tensor): (C, T) bool, True where a slot holds an entry.
        labels (Tensor): (A,) long class of each anchor.
        tau (float): Temperature.
        chunk_classes (int): Classes per chunk. Defaults to 4.
        keep_dtype (torch.dtype, optional): Keep the similarities for
            backward in this dtype (float16: |a . m / tau| <= 1 / tau fits,
            with ~1e-3 relative error; float64 anchors keep float64); None
            recomputes them (one more product, less memory; faster on the
            CPU we measured). Defaults to None.

    Returns:
        tuple[Tensor, Tensor]: ``class_lse`` (A, C) and ``own_sim`` (A, T).
    """
    if keep_dtype is not None and anchors.dtype == torch.float64:
        keep_dtype = torch.float64  # float64 callers (tests) stay exact
    return MemoryClassLSE.apply(anchors, memory, valid, labels, tau,
                                max(1, int(chunk_classes)), keep_dtype)
