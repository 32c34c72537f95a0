import os.path as osp

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

from cp2_mmseg.aux_labels import assign, kmeans, outlier_threshold
from cp2_mmseg.aux_labels.kmeans import _lloyd


def planted(n_per=200, k=4, dim=8, seed=0, spread=0.05):
    """k tight clusters of unit vectors around random unit centres."""
    g = torch.Generator().manual_seed(seed)
    centres = F.normalize(torch.randn(k, dim, generator=g), dim=1)
    x = centres.repeat_interleave(n_per, 0) + spread * torch.randn(
        k * n_per, dim, generator=g)
    return F.normalize(x, dim=1), torch.arange(k).repeat_interleave(n_per), \
        centres


def test_recovers_planted_clusters():
    x, truth, centres = planted()
    out = kmeans(x, 4, n_init=3, seed=0)
    labels, _ = assign(x, out['centroids'])
    # a perfect partition, up to renaming
    pairs = set(zip(truth.tolist(), labels.tolist()))
    assert len(pairs) == 4 and len({p[1] for p in pairs}) == 4
    # each centroid near one planted centre
    d = torch.cdist(out['centroids'], centres)
    assert (d.min(1)[0] < 0.05).all()
    assert out['inertia'] > 0


def test_empty_cluster_is_reseeded_with_the_farthest_point():
    x, _, _ = planted(k=3)
    far = torch.full((1, x.shape[1]), 50.)  # a centre nothing is near
    init = torch.cat([x[[0, 300, 500]], far])
    out = _lloyd(x, init, max_iter=20, tol=0)
    labels, _ = assign(x, out['centroids'])
    assert torch.bincount(labels, minlength=4).min() > 0


def test_outlier_share_exact_global_and_per_cluster():
    g = torch.Generator().manual_seed(0)
    d = torch.rand(1000, generator=g)
    lab = torch.randint(0, 3, (1000, ), generator=g)
    t = outlier_threshold(d, lab, 3, ratio=0.05, scope='global')
    assert int((d.double() > t[lab]).sum()) == 50
    t = outlier_threshold(d, lab, 3, ratio=0.05, scope='per_cluster')
    removed = (d.double() > t[lab])
    for c in range(3):
        n_c = int((lab == c).sum())
        assert int(removed[lab == c].sum()) == int(0.05 * n_c)
    assert torch.isinf(outlier_threshold(d, lab, 3, ratio=0.)).all()
    with pytest.raises(ValueError, match='scope'):
        outlier_threshold(d, lab, 3, scope='image')


def _worker(rank, world, init_file, out_dir):
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=world)
    x, _, _ = planted(k=5, n_per=120, spread=0.3)
    cut = 250  # unequal shards: 250 and 350 points
    shard = x[:cut] if rank == 0 else x[cut:]
    out = kmeans(shard, 5, n_init=2, seed=3, init_sample=400)
    labels, d = assign(shard, out['centroids'])
    t = outlier_threshold(d, labels, 5, 0.05)
    torch.save(dict(c=out['centroids'], inertia=out['inertia'], t=t),
               osp.join(out_dir, f'km{rank}.pth'))
    dist.destroy_process_group()


def test_one_and_two_gloo_processes_agree(tmp_path):
    x, _, _ = planted(k=5, n_per=120, spread=0.3)
    one = kmeans(x, 5, n_init=2, seed=3, init_sample=400)
    labels, d = assign(x, one['centroids'])
    t_one = outlier_threshold(d, labels, 5, 0.05)
    mp.spawn(_worker, args=(2, str(tmp_path / 'init'), str(tmp_path)),
             nprocs=2)
    r = [torch.load(str(tmp_path / f'km{i}.pth')) for i in range(2)]
    assert torch.equal(r[0]['c'], r[1]['c'])  # identical on the ranks
    assert torch.allclose(r[0]['c'], one['centroids'], atol=1e-6)
    assert r[0]['inertia'] == pytest.approx(one['inertia'], rel=1e-9)
    assert torch.allclose(r[0]['t'], t_one)
