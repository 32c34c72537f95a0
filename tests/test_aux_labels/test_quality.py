import itertools

import numpy as np
import pytest
import torch

from cp2_mmseg.aux_labels import aux_label_scores, contingency


def brute(aux_maps, gt_maps):
    """Pair counting over every ordered pair of valid pixels (i != j)."""
    pix = [(b, a, g) for b, (am, gm) in enumerate(zip(aux_maps, gt_maps))
           for a, g in zip(am.ravel(), gm.ravel()) if a != 255 and g != 255]
    n = len(pix)
    c = dict(tp=0, sa=0, sg=0, tpx=0, sax=0, sgx=0, tx=0)
    prec_a, fnr_a, anchors = [], [], 0
    for i in range(n):
        pos = [j for j in range(n) if j != i and pix[j][1] == pix[i][1]]
        negs = [j for j in range(n) if pix[j][1] != pix[i][1]]
        if pos:
            prec_a.append(np.mean([pix[j][2] == pix[i][2] for j in pos]))
        fnr_a.append(np.mean([pix[j][2] == pix[i][2] for j in negs])
                     if negs else 0.)
    for i, j in itertools.permutations(range(n), 2):
        same_a = pix[i][1] == pix[j][1]
        same_g = pix[i][2] == pix[j][2]
        cross = pix[i][0] != pix[j][0]
        c['tp'] += same_a and same_g
        c['sa'] += same_a
        c['sg'] += same_g
        if cross:
            c['tpx'] += same_a and same_g
            c['sax'] += same_a
            c['sgx'] += same_g
            c['tx'] += 1
    return dict(
        pos_prec=c['tp'] / c['sa'], pos_rec=c['tp'] / c['sg'],
        fnr=(c['sg'] - c['tp']) / (n * (n - 1) - c['sa']),
        pos_prec_x=c['tpx'] / c['sax'], pos_rec_x=c['tpx'] / c['sgx'],
        fnr_x=(c['sgx'] - c['tpx']) / (c['tx'] - c['sax']),
        pos_prec_a=float(np.mean(prec_a)), fnr_a=float(np.mean(fnr_a)))


def accumulate(aux_maps, gt_maps, k, c):
    table = np.zeros((k, c))
    sq_t, sq_a, sq_g, sq_n = np.zeros((k, c)), np.zeros(k), np.zeros(c), 0.
    for a, g in zip(aux_maps, gt_maps):
        t = contingency(torch.from_numpy(a), torch.from_numpy(g), k,
                        c).numpy().astype(float)
        table += t
        sq_t += t**2
        sq_a += t.sum(1)**2
        sq_g += t.sum(0)**2
        sq_n += t.sum()**2
    return aux_label_scores(table, sq_t, sq_a, sq_g, sq_n)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_scores_equal_brute_force_pair_counting(seed):
    rng = np.random.default_rng(seed)
    k, c = 4, 3
    aux = [rng.integers(0, k, (4, 5)) for _ in range(3)]
    gt = [rng.integers(0, c, (4, 5)) for _ in range(3)]
    aux[0][0, :2] = 255  # outliers
    gt[1][1, :3] = 255  # void
    got = accumulate(aux, gt, k, c)
    want = brute(aux, gt)
    for key, v in want.items():
        assert got[key] == pytest.approx(v, rel=1e-9, abs=1e-12), key
    assert got['q'] == pytest.approx(got['pos_prec_a'] * (1 - got['fnr_a']))


def test_perfect_and_references():
    rng = np.random.default_rng(0)
    gt = [rng.integers(0, 3, (6, 6)) for _ in range(2)]
    perm = np.array([2, 0, 1])  # auxiliary ids are a renaming of classes
    got = accumulate([perm[g] for g in gt], gt, 3, 3)
    for key in ('pos_prec', 'pos_rec', 'pos_prec_a', 'q', 'nmi', 'ari',
                'hungarian_miou'):
        assert got[key] == pytest.approx(1.0), key
    assert got['fnr'] == pytest.approx(0) and got['fnr_a'] == pytest.approx(0)
    # splitting each class into 2 clusters: precision stays 1, FNR rises
    split = [np.where(rng.random(g.shape) < .5, g, g + 3) for g in gt]
    got = accumulate(split, gt, 6, 3)
    assert got['pos_prec'] == pytest.approx(1.0) and got['fnr'] > 0.1


def test_out_of_range_values_named():
    with pytest.raises(ValueError, match=r'\[9\]'):
        contingency(torch.tensor([0, 9]), torch.tensor([0, 1]), 4, 3)
