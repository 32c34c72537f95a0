# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""DBSCAN in torch: the clustering ablation of "Looking beyond single
images" (Zhang et al., NeurIPS 2021; its supplement reports that K-means
gives better auxiliary labels than DBSCAN).

DBSCAN (Ester et al., 1996) is quadratic in the number of points, so it
runs on a subsample of the fit sample (``dbscan_samples`` in the
generation tool). A point is *core* when at least ``min_samples`` points
(itself included, as in scikit-learn) lie within ``eps``; clusters are the
connected components of the core points under the ``eps`` relation; a
non-core point within ``eps`` of a core point joins the cluster of its
*nearest* core point (scikit-learn takes the first one it meets, which
depends on the point order); the rest is noise (-1). Every other pixel of
the data set is labelled the same way against the core points
(:func:`dbscan_assign`): the cluster of its nearest core point if that is
within ``eps``, else noise, which the generation writes as ignore.

Everything is tensor code: the eps-neighbour graph is built once in
chunks (an edge list), components come from min-label propagation with
pointer jumping over that list (``scatter_reduce``), no loop over points.
"""
from typing import Dict

import torch
from torch import Tensor

from .kmeans import assign


def _sq_dists(a: Tensor, b: Tensor, b2: Tensor) -> Tensor:
    d = (a**2).sum(1, keepdim=True) - 2 * a @ b.t() + b2
    return d.clamp_(min=0)


def eps_neighbour_edges(x: Tensor,
                        eps: float,
                        chunk: int = 2048,
                        max_edges: int = 50_000_000) -> Tensor:
    """All ordered pairs (i, j), i != j, with ``||x_i - x_j|| <= eps``.

    Args:
        x (Tensor): (n, D) points.
        eps (float): Neighbourhood radius (Euclidean).
        chunk (int): Rows per distance block.
        max_edges (int): Refuse graphs with more edges (memory: 16 bytes
            each).

    Returns:
        Tensor: (2, E) int64 edge list (both directions).

    Raises:
        ValueError: when the graph would exceed ``max_edges``, naming eps.
    """
    x = x.float()
    x2 = (x**2).sum(1)
    eps2 = float(eps)**2
    rows, cols, total = [], [], 0
    for s in range(0, x.shape[0], chunk):  # one distance pass, chunked
        d = _sq_dists(x[s:s + chunk], x, x2)
        i, j = (d <= eps2).nonzero(as_tuple=True)
        i = i + s
        keep = i != j
        total += int(keep.sum())
        if total > max_edges:  # stop before holding more than max_edges
            raise ValueError(
                f'DBSCAN: eps={eps} links more than {max_edges} pairs '
                f'(max_edges) of the {x.shape[0]} points ({total} in the '
                f'first {min(s + chunk, x.shape[0])} rows); use a smaller '
                'eps or a smaller subsample')
        rows.append(i[keep])
        cols.append(j[keep])
    if not rows:
        return torch.zeros(2, 0, dtype=torch.long, device=x.device)
    return torch.stack([torch.cat(rows), torch.cat(cols)])


def connected_components(num_nodes: int, edges: Tensor) -> Tensor:
    """Component of every node of an undirected graph, as the smallest node
    index in it (min-label propagation with pointer jumping).

    Args:
        num_nodes (int): Nodes 0..num_nodes-1.
        edges (Tensor): (2, E) edges; each undirected edge in both
            directions.

    Returns:
        Tensor: (num_nodes,) int64 component ids.
    """
    lab = torch.arange(num_nodes, device=edges.device)
    src, dst = edges
    while True:
        new = lab.scatter_reduce(0, src, lab[dst], reduce='amin')
        while True:  # pointer jumping: a label is a node of the component
            jumped = new[new]
            if torch.equal(jumped, new):
                break
            new = jumped
        if torch.equal(new, lab):
            return lab
        lab = new


def dbscan(x: Tensor,
           eps: float,
           min_samples: int = 10,
           chunk: int = 2048,
           max_edges: int = 50_000_000) -> Dict[str, object]:
    """DBSCAN of a (sub)sample of L2-normalised pixel features.

    Args:
        x (Tensor): (n, D) points.
        eps (float): Neighbourhood radius (Euclidean; L2-normalised
            features lie in [0, 2]).
        min_samples (int): Points within ``eps`` (itself included) that
            make a point core.
        chunk (int): Rows per distance block.
        max_edges (int): See :func:`eps_neighbour_edges`.

    Returns:
        dict: ``labels`` (n,) cluster ids 0..K-1 ordered by decreasing size
        (ties by first point), -1 for noise; ``core`` (n,) bool;
        ``num_clusters`` K; ``noise_share``.

    Raises:
        ValueError: for eps <= 0, min_samples < 1, an empty sample or too
            dense a graph.
    """
    if eps <= 0:
        raise ValueError(f'DBSCAN: eps must be > 0, got {eps}')
    if min_samples < 1:
        raise ValueError(f'DBSCAN: min_samples must be >= 1, got '
                         f'{min_samples}')
    n = x.shape[0]
    if n == 0:
        raise ValueError('DBSCAN: the sample is empty')
    x = x.float()
    edges = eps_neighbour_edges(x, eps, chunk, max_edges)
    degree = torch.bincount(edges[0], minlength=n) + 1  # + the point
    core = degree >= min_samples
    # components of the core points under the eps relation
    core_edge = core[edges[0]] & core[edges[1]]
    comp = connected_components(n, edges[:, core_edge])
    labels = torch.full((n, ), -1, dtype=torch.long, device=x.device)
    labels[core] = comp[core]
    # border points: the cluster of the nearest core point within eps
    border = (~core).nonzero(as_tuple=True)[0]
    if core.any() and border.numel():
        idx, d = assign(x[border], x[core])
        lab = comp[core][idx]
        lab[d > float(eps)**2] = -1
        labels[border] = lab
    # relabel 0..K-1 by decreasing size, ties by the smallest member index
    valid = labels >= 0
    ids, inverse, counts = torch.unique(
        labels[valid], return_inverse=True, return_counts=True)
    # ids are sorted ascending = the smallest core index of each component
    order = torch.argsort(-counts * (n + 1) + ids)
    rank = torch.empty_like(order)
    rank[order] = torch.arange(order.numel(), device=x.device)
    labels[valid] = rank[inverse]
    return dict(labels=labels, core=core, num_clusters=int(ids.numel()),
                noise_share=float((~valid).float().mean()))


def dbscan_assign(x: Tensor, core_points: Tensor, core_labels: Tensor,
                  eps: float) -> Tensor:
    """Label new points by a fitted DBSCAN: the cluster of the nearest core
    point when it is within ``eps``, else -1 (noise).

    Args:
        x (Tensor): (m, D) points.
        core_points (Tensor): (c, D) the fit's core points.
        core_labels (Tensor): (c,) their clusters.
        eps (float): The fit's radius.

    Returns:
        Tensor: (m,) int64 labels, -1 for noise.
    """
    if core_points.shape[0] == 0:
        return torch.full((x.shape[0], ), -1, dtype=torch.long,
                          device=x.device)
    idx, d = assign(x.float(), core_points.float())
    lab = core_labels[idx].clone()
    lab[d > float(eps)**2] = -1
    return lab
