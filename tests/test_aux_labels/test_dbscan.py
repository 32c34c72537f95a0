"""DBSCAN (the clustering ablation of Zhang et al.): equal to a plain
breadth-first reference on random points, recovers planted clusters and
noise, labels new points against the core points."""
import numpy as np
import pytest
import torch

from cp2_mmseg.aux_labels.dbscan import (connected_components, dbscan,
                                         dbscan_assign, eps_neighbour_edges)


def _reference(x: np.ndarray, eps: float, min_samples: int) -> np.ndarray:
    """Textbook DBSCAN: BFS over core points; a border point joins its
    nearest core point's cluster; -1 noise. Cluster ids are canonicalised
    as in the implementation (size desc, then smallest core index)."""
    n = len(x)
    d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    nb = d <= eps
    core = nb.sum(1) >= min_samples
    comp = -np.ones(n, int)
    for i in range(n):
        if not core[i] or comp[i] >= 0:
            continue
        comp[i] = i
        todo = [i]
        while todo:
            p = todo.pop()
            for q in np.nonzero(nb[p] & core)[0]:
                if comp[q] < 0:
                    comp[q] = i
                    todo.append(q)
    labels = comp.copy()
    cores = np.nonzero(core)[0]
    for i in np.nonzero(~core)[0]:
        if len(cores) == 0:
            break
        j = cores[np.argmin(d[i, cores])]
        labels[i] = comp[j] if d[i, j] <= eps else -1
    ids = sorted(set(labels[labels >= 0].tolist()),
                 key=lambda c: (-(labels == c).sum(), c))
    out = -np.ones(n, int)
    for r, c in enumerate(ids):
        out[labels == c] = r
    return out, core


@pytest.mark.parametrize('seed,eps,min_samples', [(0, 0.25, 4), (1, 0.35, 6),
                                                   (2, 0.2, 2), (3, 0.5, 12)])
def test_equals_breadth_first_reference(seed, eps, min_samples):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(5, 3, generator=g)
    x = torch.cat([centres[torch.randint(5, (150, ), generator=g)] +
                   0.15 * torch.randn(150, 3, generator=g),
                   2 * torch.randn(30, 3, generator=g)])
    out = dbscan(x, eps, min_samples, chunk=37)  # several chunks
    ref, core = _reference(x.double().numpy(), eps, min_samples)
    np.testing.assert_array_equal(out['core'].numpy(), core)
    np.testing.assert_array_equal(out['labels'].numpy(), ref)
    assert out['num_clusters'] == ref.max() + 1
    assert out['noise_share'] == pytest.approx((ref < 0).mean())


def test_planted_clusters_and_noise():
    g = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0., 0.], [5., 0.], [0., 5.]])
    blobs = torch.cat([c + 0.1 * torch.randn(200, 2, generator=g)
                       for c in centres])
    far = torch.tensor([[10., 10.], [-10., 3.], [3., -10.]])
    out = dbscan(torch.cat([blobs, far]), eps=0.3, min_samples=5)
    lab = out['labels']
    assert out['num_clusters'] == 3
    assert (lab[600:] == -1).all()
    for b in range(3):  # each blob one cluster, different from the others
        assert lab[200 * b:200 * (b + 1)].unique().numel() == 1
    assert lab[[0, 200, 400]].unique().numel() == 3
    # new points: near a blob -> its cluster, far -> noise
    new = torch.tensor([[5.05, 0.], [0., 4.95], [20., 20.]])
    core = out['core']
    got = dbscan_assign(new, torch.cat([blobs, far])[core], lab[core], 0.3)
    assert got.tolist() == [int(lab[200]), int(lab[400]), -1]


def test_components_and_edges():
    edges = torch.tensor([[0, 1, 3, 4, 5, 6], [1, 0, 4, 3, 6, 5]])
    assert connected_components(8, edges).tolist() == [0, 0, 2, 3, 3, 5, 5, 7]
    # a long chain needs many propagation rounds
    n = 50
    a = torch.arange(n - 1)
    chain = torch.stack([torch.cat([a, a + 1]), torch.cat([a + 1, a])])
    assert (connected_components(n, chain) == 0).all()
    x = torch.tensor([[0.], [0.5], [2.]])
    e = eps_neighbour_edges(x, 0.6)
    assert sorted(map(tuple, e.t().tolist())) == [(0, 1), (1, 0)]
    with pytest.raises(ValueError, match='eps=3'):
        eps_neighbour_edges(x, 3, max_edges=4)
    # 3 points within eps of each other: 6 ordered pairs, the limit inclusive
    assert eps_neighbour_edges(x, 3, max_edges=6).shape == (2, 6)
    with pytest.raises(ValueError, match='max_edges'):
        eps_neighbour_edges(x, 3, max_edges=5, chunk=1)


def test_bad_arguments():
    x = torch.zeros(4, 2)
    with pytest.raises(ValueError, match='eps'):
        dbscan(x, 0)
    with pytest.raises(ValueError, match='min_samples'):
        dbscan(x, 0.1, 0)
    with pytest.raises(ValueError, match='empty'):
        dbscan(x[:0], 0.1)


def test_border_point_does_not_join_two_clusters():
    """A non-core point within eps of core points of two clusters joins one
    of them; it does not chain them into one."""
    a = torch.arange(-9, 1).float() * 0.1  # -0.9 .. 0
    b = torch.arange(5, 15).float() * 0.1  # 0.5 .. 1.4
    x = torch.cat([a, b, torch.tensor([0.25])])[:, None]
    out = dbscan(x, eps=0.26, min_samples=4)
    assert not out['core'][-1] and out['core'][9] and out['core'][10]
    assert out['num_clusters'] == 2
    lab = out['labels']
    assert lab[:10].unique().numel() == 1 and lab[10:20].unique().numel() == 1
    assert lab[0] != lab[10] and lab[-1] in (lab[0], lab[10])
