# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""K-means for auxiliary labels (Zhang et al., NeurIPS 2021): torch Lloyd
iterations on L2-normalised pixel features, correct with one process and
under torch.distributed.

Every process holds a shard of the fit sample. The k-means++ seeds are
drawn from a subsample chosen by *global* index (the shards in rank order
form one array), so the result does not depend on how the sample is split
over processes: one process and two give the same centroids for a seed.
Per-cluster sums and counts are accumulated in float64 and all-reduced;
empty clusters are re-seeded with the point farthest from its centroid over
all processes.
"""
from typing import Dict

import torch
from mmengine import dist
from torch import Tensor

from ..models.utils.dist_utils import all_gather_cat


def _all_sum(t: Tensor) -> Tensor:
    if dist.get_world_size() > 1:
        dist.all_reduce(t, op='sum')
    return t


def _shard_offset(n_local: int, device) -> tuple:
    """(offset of this shard in the global array, global size)."""
    sizes = all_gather_cat(torch.tensor([n_local], device=device))
    rank = dist.get_rank()
    return int(sizes[:rank].sum()), int(sizes.sum())


def global_subsample(x: Tensor, num: int,
                     generator: torch.Generator) -> Tensor:
    """``num`` rows of the global array (shards in rank order) chosen by a
    seeded permutation of the global indices; identical on every rank and
    for any number of ranks."""
    offset, total = _shard_offset(x.shape[0], x.device)
    idx = torch.randperm(total, generator=generator)[:num].sort()[0]
    mine = idx[(idx >= offset) & (idx < offset + x.shape[0])] - offset
    return all_gather_cat(x[mine.to(x.device)])


def kmeans_pp(points: Tensor, k: int,
              generator: torch.Generator) -> Tensor:
    """k-means++ seeding (D^2 sampling) on one (shared) set of points."""
    n = points.shape[0]
    if n < k:
        raise ValueError(f'k-means: {k} clusters need at least {k} points, '
                         f'the sample has {n}')
    first = int(torch.randint(n, (1, ), generator=generator))
    centers = [points[first]]
    d2 = ((points - points[first])**2).sum(1).double()
    for _ in range(1, k):
        total = d2.sum()
        if total <= 0:  # all remaining points coincide with a centre
            nxt = int(torch.randint(n, (1, ), generator=generator))
        else:
            nxt = int(torch.multinomial(d2 / total, 1, generator=generator))
        centers.append(points[nxt])
        d2 = torch.minimum(d2, ((points - points[nxt])**2).sum(1).double())
    return torch.stack(centers)


def assign(x: Tensor, centroids: Tensor, chunk: int = 65536) -> tuple:
    """Nearest centroid and squared distance of every row of ``x``."""
    labels = torch.empty(x.shape[0], dtype=torch.long, device=x.device)
    dists = torch.empty(x.shape[0], dtype=x.dtype, device=x.device)
    c2 = (centroids**2).sum(1)
    for s in range(0, x.shape[0], chunk):
        xs = x[s:s + chunk]
        d = (xs**2).sum(1, keepdim=True) - 2 * xs @ centroids.t() + c2
        dmin, lab = d.min(1)
        labels[s:s + chunk] = lab
        dists[s:s + chunk] = dmin.clamp_(min=0)
    return labels, dists


def _lloyd(x: Tensor, centroids: Tensor, max_iter: int,
           tol: float) -> Dict[str, object]:
    k, dim = centroids.shape
    prev = None
    for it in range(1, max_iter + 1):
        labels, dists = assign(x, centroids)
        sums = torch.zeros(k, dim, dtype=torch.float64, device=x.device)
        sums.index_add_(0, labels, x.double())
        counts = torch.bincount(labels, minlength=k).double()
        inertia = dists.double().sum().reshape(1)
        _all_sum(sums), _all_sum(counts), _all_sum(inertia)
        empty = (counts == 0).nonzero(as_tuple=True)[0]
        new = centroids.double().clone()
        nonempty = counts > 0
        new[nonempty] = sums[nonempty] / counts[nonempty, None]
        for e in empty.tolist():  # re-seed: the farthest point overall
            j = int(dists.argmax()) if dists.numel() else 0
            local = dists[j] if dists.numel() else x.new_tensor(-1.)
            cand = all_gather_cat(local.reshape(1).double())
            owner = int(cand.argmax())
            point = x[j].double() if dist.get_rank() == owner else \
                x.new_zeros(dim, dtype=torch.float64)
            new[e] = _all_sum(point)
            if dist.get_rank() == owner:
                dists[j] = 0
        centroids = new.to(x.dtype)
        value = float(inertia)
        if prev is not None and abs(prev - value) <= tol * max(prev, 1e-12):
            break
        prev = value
    labels, dists = assign(x, centroids)
    inertia = _all_sum(dists.double().sum().reshape(1))
    return dict(centroids=centroids, inertia=float(inertia), n_iter=it)


def kmeans(x: Tensor,
           k: int,
           n_init: int = 3,
           max_iter: int = 100,
           tol: float = 1e-4,
           seed: int = 0,
           init_sample: int = 100000) -> Dict[str, object]:
    """Lloyd K-means with k-means++ seeding and restarts, over all ranks.

    Args:
        x (Tensor): (n, D) this rank's shard of the fit sample (any n,
            also 0).
        k (int): Number of clusters.
        n_init (int): Restarts; the lowest inertia wins. Defaults to 3.
        max_iter (int): Lloyd iterations per restart. Defaults to 100.
        tol (float): Stop when the inertia changes by less than this
            fraction. Defaults to 1e-4.
        seed (int): Seed of the seeding subsample and of k-means++.
        init_sample (int): Points (global) the seeding draws from.

    Returns:
        dict: ``centroids`` (k, D), ``inertia`` (sum of squared distances
        over all ranks), ``n_iter`` of the kept restart, ``restart``.
    """
    if k < 1:
        raise ValueError(f'k-means: k must be >= 1, got {k}')
    best = None
    for r in range(n_init):
        g = torch.Generator().manual_seed(seed * 1000003 + r)
        sample = global_subsample(x, init_sample, g)
        init = kmeans_pp(sample, k, g).to(x.device, x.dtype)
        out = _lloyd(x, init, max_iter, tol)
        out['restart'] = r
        if best is None or out['inertia'] < best['inertia']:
            best = out
    return best


def outlier_threshold(dists: Tensor,
                      labels: Tensor,
                      k: int,
                      ratio: float = 0.05,
                      scope: str = 'global') -> Tensor:
    """Distance above which a pixel is an outlier (written as ignore).

    Args:
        dists (Tensor): (n,) squared distances of this rank's fit pixels to
            their centroids.
        labels (Tensor): (n,) their clusters.
        k (int): Number of clusters.
        ratio (float): Share removed (paper: 5 % is best). 0 keeps all.
        scope (str): 'global' (one threshold) or 'per_cluster'.

    Returns:
        Tensor: (k,) thresholds (the same value k times for 'global'),
        +inf where nothing is removed.
    """
    if scope not in ('global', 'per_cluster'):
        raise ValueError(f"outlier scope must be 'global' or 'per_cluster', "
                         f'got {scope!r}')
    if not 0 <= ratio < 1:
        raise ValueError(f'outlier ratio must be in [0, 1), got {ratio}')
    d = all_gather_cat(dists.double())
    lab = all_gather_cat(labels)
    inf = torch.full((k, ), float('inf'), dtype=torch.float64,
                     device=dists.device)
    if ratio == 0 or d.numel() == 0:
        return inf

    # keep exactly n - floor(ratio * n) values per group: the threshold is
    # the largest kept one (distances are continuous; ties are kept)
    if scope == 'global':
        lab = torch.zeros_like(lab)
    order = d.argsort()
    order = order[lab[order].argsort(stable=True)]  # by cluster, then d
    counts = torch.bincount(lab, minlength=k)
    starts = torch.cumsum(counts, 0) - counts
    n_out = torch.floor(counts.double() * ratio).long()
    has = n_out > 0
    idx = (starts + counts - n_out - 1).clamp(min=0)
    t = torch.where(has, d[order][idx.clamp(max=max(d.numel() - 1, 0))],
                    inf)
    if scope == 'global':  # every pixel was in group 0
        return torch.full_like(inf, float(t[0]))
    return t
