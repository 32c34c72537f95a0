import pytest
import torch
import torch.nn.functional as F

from cp2_mmseg.models import (gathered_similarity, pixel_contrast_terms,
                              semi_hard_sample)


def setup(seed=0, num_c=3, num_t=40, dim=6, num_a=10):
    torch.manual_seed(seed)
    memory = F.normalize(torch.randn(num_c, num_t, dim), dim=-1)
    valid = torch.ones(num_c, num_t, dtype=torch.bool)
    valid[1, 30:] = False
    anchors = F.normalize(torch.randn(num_a, dim), dim=1)
    labels = torch.randint(0, num_c, (num_a, ))
    return anchors, labels, memory, valid


@pytest.mark.parametrize('pool', [None, 100.0])
def test_selection_is_semi_hard_uniform_and_valid(pool):
    """Full scan (pool None) and a pool holding the whole memory: exactly
    the top 25 % nearest negatives / farthest positives are eligible."""
    anchors, labels, memory, valid = setup()
    flat = memory.flatten(0, 1)
    flat_lbl = torch.arange(3).repeat_interleave(40)
    flat_ok = valid.flatten()
    pos_idx, pos_ok, neg_idx, neg_ok = semi_hard_sample(
        anchors, labels, memory, valid, top_ratio=0.25, num_pos=4,
        num_neg=8, chunk_classes=2, num_quantile_samples=10**6,
        negative_pool=pool)
    sims = anchors @ flat.t()
    for i in range(len(anchors)):
        neg = (flat_lbl != labels[i]) & flat_ok
        pos = (flat_lbl == labels[i]) & flat_ok
        n_keep = int(torch.ceil(neg.sum() * 0.25))
        p_keep = int(torch.ceil(pos.sum() * 0.25))
        neg_cut = sims[i][neg].sort(descending=True)[0][n_keep - 1]
        pos_cut = sims[i][pos].sort()[0][p_keep - 1]
        sel_n = neg_idx[i][neg_ok[i]]
        sel_p = pos_idx[i][pos_ok[i]]
        assert len(sel_n) == min(8, n_keep) and len(sel_p) == min(4, p_keep)
        assert len(set(sel_n.tolist())) == len(sel_n)  # no duplicates
        assert neg[sel_n].all() and pos[sel_p].all()
        assert (sims[i, sel_n] >= neg_cut - 1e-6).all()  # nearest negatives
        assert (sims[i, sel_p] <= pos_cut + 1e-6).all()  # farthest positives


def test_gathered_similarity_gradient():
    anchors, _, memory, _ = setup()
    a = anchors.double().requires_grad_()
    entries = memory.flatten(0, 1).double()
    idx = torch.randint(0, entries.shape[0], (10, 7))
    assert torch.autograd.gradcheck(
        lambda x: gathered_similarity(x, entries, idx, 0.3, 3), (a, ))
    ref = torch.einsum('ad,akd->ak', a, entries[idx]) / 0.3
    assert torch.allclose(gathered_similarity(a, entries, idx, 0.3), ref)
    # precomputed dot products (from the mining pass): same values and
    # gradient; duplicate indices in a row add up
    idx[:, 1] = idx[:, 0]
    w = torch.randn(10, 7, dtype=torch.float64)
    ref = torch.einsum('ad,akd->ak', a, entries[idx]) / 0.3
    g_ref, = torch.autograd.grad((ref * w).sum(), a)
    got = gathered_similarity(a, entries, idx, 0.3,
                              values=torch.einsum('ad,akd->ak', a.detach(),
                                                  entries[idx]))
    g_got, = torch.autograd.grad((got * w).sum(), a)
    assert torch.allclose(got, ref) and torch.allclose(g_got, g_ref)


def test_mining_everything_equals_full_memory_loss():
    """top_ratio 1 and K >= entries: the full-memory loss exactly."""
    anchors, labels, memory, valid = setup()
    full = pixel_contrast_terms(anchors, labels, 0.1, False, memory, valid)
    mined = pixel_contrast_terms(
        anchors, labels, 0.1, False, memory, valid,
        memory_mining=dict(top_ratio=1.0, num_pos=200, num_neg=200,
                           num_quantile_samples=10**6))
    assert torch.allclose(full[0], mined[0], atol=1e-5)
    assert torch.equal(full[1], mined[1])


def test_empty_memory_keeps_nothing():
    anchors, labels, memory, valid = setup()
    valid[:] = False
    _, pos_ok, _, neg_ok = semi_hard_sample(anchors, labels, memory, valid,
                                            num_pos=3, num_neg=4)
    assert not pos_ok.any() and not neg_ok.any()


def test_hardest_takes_the_k_nearest_negatives_and_farthest_positives():
    anchors, labels, memory, valid = setup()
    flat = memory.flatten(0, 1)
    flat_lbl = torch.arange(3).repeat_interleave(40)
    flat_ok = valid.flatten()
    pos_idx, pos_ok, neg_idx, neg_ok = semi_hard_sample(
        anchors, labels, memory, valid, num_pos=5, num_neg=7,
        chunk_classes=2, strategy='hardest')
    assert pos_ok.all() and neg_ok.all()
    sims = anchors @ flat.t()
    for i in range(len(anchors)):
        neg = (flat_lbl != labels[i]) & flat_ok
        pos = (flat_lbl == labels[i]) & flat_ok
        want_n = sims[i].masked_fill(~neg, -2).topk(7)[1]
        want_p = sims[i].masked_fill(~pos, 2).topk(5, largest=False)[1]
        assert set(neg_idx[i].tolist()) == set(want_n.tolist())
        assert set(pos_idx[i].tolist()) == set(want_p.tolist())


def test_unknown_strategy_is_named():
    anchors, labels, memory, valid = setup()
    with pytest.raises(ValueError, match='hardes'):
        semi_hard_sample(anchors, labels, memory, valid, strategy='hardes')


def test_pooled_negatives_are_a_uniform_sample_of_the_semi_hard_set():
    """A pool of 2 x num_neg / top_ratio entries (160 of 1200): over many
    steps every semi-hard negative of the anchor is drawn about equally
    often, and entries far from the top 10 % almost never."""
    torch.manual_seed(0)
    memory = F.normalize(torch.randn(3, 400, 8), dim=-1)
    valid = torch.ones(3, 400, dtype=torch.bool)
    anchor = F.normalize(torch.randn(1, 8), dim=1)
    label = torch.tensor([0])
    flat = memory.flatten(0, 1)
    other = torch.arange(1200) >= 400
    sims = (anchor @ flat.t())[0]
    rank = torch.full((1200, ), 10**6)
    order = sims.masked_fill(~other, -2).argsort(descending=True)
    rank[order] = torch.arange(1200)
    hits = torch.zeros(1200)
    for _ in range(300):
        _, _, neg_idx, neg_ok = semi_hard_sample(
            anchor, label, memory, valid, top_ratio=0.1, num_pos=4,
            num_neg=8, negative_pool=2.0)
        assert neg_ok.all() and other[neg_idx[0]].all()
        hits[neg_idx[0]] += 1
    core = rank < 64  # well inside the top 80 (10 % of 800)
    assert hits[core].min() >= 10 and hits[core].max() <= 60
    assert hits[rank >= 120].sum() <= 0.01 * hits.sum()


@pytest.mark.parametrize('pool', [1.0, None])
def test_pooled_and_scan_gradients_equal_autograd(pool):
    """The dense backward of the pooled negatives and the per-class
    backward of the positives give plain autograd's gradient for the same
    selection."""
    from cp2_mmseg.models.utils.masked_ops import masked_logsumexp
    from cp2_mmseg.models.utils.semi_hard_mining import mine_memory
    anchors, labels, memory, valid = setup(num_a=12)
    mining = dict(top_ratio=0.3, num_pos=5, num_neg=9, negative_pool=pool)
    a = anchors.double().requires_grad_()
    torch.manual_seed(5)
    total, count = pixel_contrast_terms(a, labels, 0.2, False,
                                        memory.double(), valid,
                                        memory_mining=mining)
    (total.sum() / count.sum()).backward()
    torch.manual_seed(5)
    mined = mine_memory(anchors.double(), labels, memory.double(), valid,
                        **mining)
    b = anchors.double().requires_grad_()
    flat = memory.double().flatten(0, 1)
    neg = torch.einsum('ad,akd->ak', b, flat[mined['neg_idx']]) / 0.2
    pos = torch.einsum('ad,akd->ak', b, flat[mined['pos_idx']]) / 0.2
    lse = masked_logsumexp(neg, mined['neg_ok'], dim=1)
    ref_total = (F.logsigmoid(pos - lse[:, None]) * mined['pos_ok']).sum(1)
    (ref_total.sum() / mined['pos_ok'].sum()).backward()
    assert torch.allclose(total, ref_total.detach(), atol=1e-9)
    assert torch.allclose(a.grad, b.grad, atol=1e-9)
