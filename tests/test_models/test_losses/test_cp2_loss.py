import math

import pytest
import torch
import torch.nn.functional as F

from cp2_mmseg.models import cp2_dense_loss, cp2_instance_loss, masked_pool


def unit(*shape, dim):
    return F.normalize(torch.randn(*shape, dtype=torch.float64), dim=dim)


def test_instance_matches_brute_force():
    torch.manual_seed(0)
    q, k = unit(3, 8, dim=1), unit(3, 8, dim=1)
    queue = unit(8, 20, dim=0)
    loss, _ = cp2_instance_loss(q, k, queue, 0.2)
    for n in range(3):
        pos = torch.exp(q[n] @ k[n] / 0.2)
        negs = sum(torch.exp(q[n] @ queue[:, j] / 0.2) for j in range(20))
        assert torch.allclose(loss[n], -torch.log(pos / (pos + negs)))


def test_instance_indistinct_keys_give_log_queue():
    """When the positive is no closer than the K negatives: ln(K + 1)."""
    q = unit(4, 16, dim=1)
    queue = q[0][:, None].repeat(1, 4096)
    loss, _ = cp2_instance_loss(q[:1], q[:1], queue, 0.2)
    assert abs(loss.item() - math.log(4097)) < 1e-6


@pytest.mark.parametrize('over', ['query', 'key'])
def test_dense_matches_brute_force(over):
    torch.manual_seed(1)
    n, c, p = 2, 6, 9
    q, k = unit(n, c, p, dim=1), unit(n, c, p, dim=1)
    mq = (torch.rand(n, p) > 0.4).double()
    mk = (torch.rand(n, p) > 0.4).double()
    mq[:, 0] = mk[:, 0] = 1
    loss, _ = cp2_dense_loss(q, k, mq, mk, 0.5, over)
    for b in range(n):
        s = q[b].t() @ k[b] / 0.5  # s[x, y], x query, y key
        terms = []
        for x in range(p):
            for y in range(p):
                if mq[b, x] and mk[b, y]:
                    if over == 'query':  # normalise over x for fixed y
                        den = sum(torch.exp(s[xx, y]) for xx in range(p))
                    else:
                        den = sum(torch.exp(s[x, yy]) for yy in range(p))
                    terms.append(-torch.log(torch.exp(s[x, y]) / den))
        assert torch.allclose(loss[b], sum(terms) / len(terms))


def test_dense_uniform_similarity_is_log_p():
    q = F.normalize(torch.ones(2, 4, 196), dim=1)
    mq = torch.zeros(2, 196)
    mq[:, :120] = 1
    loss, _ = cp2_dense_loss(q, q.clone(), mq, mq)
    assert torch.allclose(loss, torch.full((2, ), math.log(196)))


def test_masked_pool_is_normalised_mean():
    f = unit(2, 4, 5, dim=1)
    m = torch.tensor([[1, 0, 1, 0, 0], [0, 0, 0, 1, 1]]).double()
    ref = F.normalize((f * m[:, None]).sum(2) / m.sum(1, keepdim=True), dim=1)
    assert torch.allclose(masked_pool(f, m), ref)


def test_dense_bad_orientation():
    with pytest.raises(ValueError):
        cp2_dense_loss(unit(1, 2, 3, dim=1), unit(1, 2, 3, dim=1),
                       torch.ones(1, 3), torch.ones(1, 3), 1.0, 'both')
