"""SupervisedPixelContrastLoss (Zhao et al.) against a per-pixel loop."""
import math

import pytest
import torch
import torch.nn.functional as F

from cp2_mmseg.models.losses import SupervisedPixelContrastLoss


def reference_set_loss(feats, labels, groups, tau, exclude_self, ignore):
    """Loop version of the official loss for one set of pixels."""
    total, count = 0., 0
    M = feats.shape[0]
    for p in range(M):
        if labels[p] == ignore:
            continue
        negs = [n for n in range(M) if labels[n] != ignore
                and labels[n] != labels[p] and groups[n] == groups[p]]
        poss = [q for q in range(M) if labels[q] == labels[p]
                and not (exclude_self and q == p)]
        if not poss:
            continue
        terms = []
        for q in poss:
            s_pq = feats[p] @ feats[q] / tau
            denom = torch.exp(s_pq) + sum(
                torch.exp(feats[p] @ feats[n] / tau) for n in negs)
            terms.append(-(s_pq - torch.log(denom)))
        total = total + sum(terms) / len(terms)
        count += 1
    return total / count if count else torch.zeros(())


def reference(e1, e2, l1, l2, mode, perm, tau, exclude_self, ignore=255):
    B, C = e1.shape[:2]
    f1 = F.normalize(e1.flatten(2), dim=1).transpose(1, 2)
    f2 = F.normalize(e2.flatten(2), dim=1).transpose(1, 2)
    l1, l2 = l1.flatten(1), l2.flatten(1)
    N = l1.shape[1]
    losses = []
    for b in range(B):
        if mode == 'within':
            g = torch.zeros(N)
            losses.append(
                reference_set_loss(f1[b], l1[b], g, tau, exclude_self, ignore)
                + reference_set_loss(f2[b], l2[b], g, tau, exclude_self,
                                     ignore))
        else:
            j = perm[b]
            feats = torch.cat([f1[b], f2[j]])
            labels = torch.cat([l1[b], l2[j]])
            g = torch.cat([torch.zeros(N), torch.ones(N)])
            losses.append(
                reference_set_loss(feats, labels, g, tau, exclude_self,
                                   ignore))
    return sum(losses) / B


def _inputs(seed=0, B=3, C=5, h=3, w=4, classes=3):
    g = torch.Generator().manual_seed(seed)
    e1 = torch.randn(B, C, h, w, generator=g, dtype=torch.float64)
    e2 = torch.randn(B, C, h, w, generator=g, dtype=torch.float64)
    lbl = torch.randint(0, classes, (B, h, w), generator=g)
    lbl[0, 0, :2] = 255
    lbl[1] = 1  # an image with a single class: no negatives at all
    return e1, e2, lbl


@pytest.mark.parametrize('mode', ['within', 'cross'])
@pytest.mark.parametrize('exclude_self', [False, True])
def test_matches_loop_reference_and_gradient(mode, exclude_self):
    e1, e2, lbl = _inputs()
    lbl2 = lbl.flip(-1)  # a geometric view with its own labels
    perm = torch.tensor([2, 0, 1])
    e1a, e2a = e1.clone().requires_grad_(), e2.clone().requires_grad_()
    loss = SupervisedPixelContrastLoss(
        mode=mode, temperature=0.5, resize_size=None,
        exclude_self=exclude_self, anchor_chunk=5)
    out = loss(e1a, e2a, lbl, lbl2, perm=perm)
    e1b, e2b = e1.clone().requires_grad_(), e2.clone().requires_grad_()
    ref = reference(e1b, e2b, lbl, lbl2, mode, perm, 0.5, exclude_self)
    assert torch.allclose(out.double(), ref, atol=1e-5), (out, ref)
    out.backward()
    ref.backward()
    assert torch.allclose(e1a.grad, e1b.grad, atol=1e-5)
    assert torch.allclose(e2a.grad, e2b.grad, atol=1e-5)


def test_chunking_does_not_change_the_loss():
    e1, e2, lbl = _inputs(seed=1, h=6, w=5)
    perm = torch.tensor([1, 2, 0])
    values = [
        SupervisedPixelContrastLoss(resize_size=None, anchor_chunk=c)(
            e1, e2, lbl, perm=perm) for c in (1, 7, 1000)
    ]
    assert torch.allclose(values[0], values[1]) and torch.allclose(
        values[0], values[2])


def test_collapsed_embeddings_closed_form():
    """All embeddings equal: each pair term is log(1 + |N_p|)."""
    B, C, h, w = 1, 4, 2, 2
    e = torch.ones(B, C, h, w)
    lbl = torch.tensor([[[0, 0], [0, 1]]])
    out = SupervisedPixelContrastLoss(
        mode='within', resize_size=None)(e, e.clone(), lbl)
    # class-0 anchors: 1 negative; the class-1 anchor: 3 negatives
    per_view = (3 * math.log(2) + math.log(4)) / 4
    assert out.item() == pytest.approx(2 * per_view, rel=1e-5)


def test_resize_and_labels():
    loss = SupervisedPixelContrastLoss(resize_size=(4, 4), num_classes=3)
    e1, e2 = torch.randn(2, 8, 8, 8), torch.randn(2, 8, 8, 8)
    lbl = torch.randint(0, 3, (2, 32, 32))
    assert torch.isfinite(loss(e1, e2, lbl))
    lbl[1, 5, 5] = 7
    with pytest.raises(ValueError, match=r'SupervisedPixelContrastLoss.*\[7\]'):
        loss(e1, e2, lbl)


def test_all_ignored_is_zero_with_gradient():
    e1 = torch.randn(2, 4, 3, 3, requires_grad=True)
    lbl = torch.full((2, 3, 3), 255)
    out = SupervisedPixelContrastLoss(resize_size=None)(e1, e1 * 2, lbl)
    out.backward()
    assert out.item() == 0 and torch.isfinite(e1.grad).all()


def test_bad_arguments_named():
    with pytest.raises(ValueError, match='mode'):
        SupervisedPixelContrastLoss(mode='batch')
    with pytest.raises(ValueError, match='embed_aug'):
        SupervisedPixelContrastLoss()(
            torch.randn(1, 4, 4, 4), torch.randn(1, 4, 2, 2),
            torch.zeros(1, 4, 4, dtype=torch.long))


def test_defaults_are_the_official_loss():
    """The defaults are the official TF1 loss: the cross-image form, T =
    0.07, the self pair kept among the positives."""
    e1, e2, lbl = _inputs(seed=2)
    perm = torch.tensor([1, 2, 0])
    out = SupervisedPixelContrastLoss(resize_size=None)(e1, e2, lbl,
                                                        perm=perm)
    ref = reference(e1, e2, lbl, lbl, 'cross', perm, 0.07, False)
    assert torch.allclose(out.double(), ref, atol=1e-5), (out, ref)
