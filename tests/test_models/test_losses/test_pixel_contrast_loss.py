import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub

from cp2_mmseg.models import (CrossImageMemoryBank, PixelContrastLoss,
                              pixel_contrast_terms, sample_anchors)
from cp2_mmseg.models.losses.pixel_contrast_loss import resize_labels


def brute_force(anchors, labels, tau, base_tau, batch=True, mem=None,
                mem_labels=None):
    """Loops per anchor and per positive, float64."""
    a = anchors.double()
    entries, entry_labels, owner = [], [], []
    if batch:
        entries += list(a)
        entry_labels += labels.tolist()
        owner += list(range(len(a)))
    if mem is not None:
        entries += list(mem.double())
        entry_labels += mem_labels.tolist()
        owner += [-1] * len(mem)
    losses = []
    for i in range(len(a)):
        negs = [
            torch.exp(a[i] @ e / tau) for e, y in zip(entries, entry_labels)
            if y != labels[i]
        ]
        neg_sum = sum(negs) if negs else torch.tensor(0., dtype=a.dtype)
        terms = []
        for e, y, o in zip(entries, entry_labels, owner):
            if y != labels[i] or o == i:
                continue
            pos = torch.exp(a[i] @ e / tau)
            terms.append(torch.log(pos / (pos + neg_sum)))
        if terms:
            losses.append(-(tau / base_tau) * sum(terms) / len(terms))
    return torch.stack(losses).mean()


def final(total, count, tau, base_tau):
    has = count > 0
    return -(tau / base_tau) * (total[has] / count[has]).mean()


def rand_unit(*shape):
    return F.normalize(torch.randn(*shape), dim=-1)


@pytest.mark.parametrize('mode', ['batch', 'memory', 'both'])
def test_terms_match_brute_force(mode):
    torch.manual_seed(0)
    num_c, t_slots, dim = 4, 6, 8
    anchors = rand_unit(20, dim)
    labels = torch.randint(0, 3, (20, ))  # class 3 absent from the batch
    memory = rand_unit(num_c, t_slots, dim)
    filled = torch.tensor([6, 2, 0, 4])  # class 2 memory empty
    valid = torch.arange(t_slots)[None] < filled[:, None]
    use_mem = mode != 'batch'
    total, count = pixel_contrast_terms(
        anchors, labels, 0.1, use_batch=mode != 'memory',
        memory=memory if use_mem else None,
        memory_valid=valid if use_mem else None, memory_chunk_classes=3)
    got = final(total, count, 0.1, 0.07)
    mem_e = memory[valid] if use_mem else None
    mem_l = torch.arange(num_c)[:, None].expand(-1, t_slots)[valid] \
        if use_mem else None
    ref = brute_force(anchors, labels, 0.1, 0.07, batch=mode != 'memory',
                      mem=mem_e, mem_labels=mem_l)
    assert torch.allclose(got.double(), ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('mode', ['batch', 'memory', 'both'])
def test_gradient_matches_autograd_reference(mode):
    """The chunked memory function's backward equals plain autograd."""
    torch.manual_seed(1)
    anchors = rand_unit(12, 5).double().requires_grad_()
    labels = torch.randint(0, 3, (12, ))
    memory = rand_unit(3, 7, 5).double()
    valid = torch.rand(3, 7) > 0.3
    use_mem = mode != 'batch'
    total, count = pixel_contrast_terms(
        anchors, labels, 0.2, use_batch=mode != 'memory',
        memory=memory if use_mem else None,
        memory_valid=valid if use_mem else None, memory_chunk_classes=2)
    final(total, count, 0.2, 0.07).backward()
    got = anchors.grad.clone()
    anchors.grad = None
    mem_e = memory[valid] if use_mem else None
    mem_l = torch.arange(3)[:, None].expand(-1, 7)[valid] if use_mem else None
    brute_force(anchors, labels, 0.2, 0.07, batch=mode != 'memory',
                mem=mem_e, mem_labels=mem_l).backward()
    assert torch.allclose(got, anchors.grad, rtol=1e-6, atol=1e-9)


def test_separated_classes_give_zero():
    anchors = torch.cat([torch.tensor([[1., 0.]]).repeat(10, 1),
                         torch.tensor([[-1., 0.]]).repeat(10, 1)])
    labels = torch.tensor([0] * 10 + [1] * 10)
    total, count = pixel_contrast_terms(anchors, labels, 0.05)
    assert final(total, count, 0.05, 0.07).item() < 1e-10


def test_collapsed_embeddings_closed_form():
    anchors = F.normalize(torch.ones(30, 4), dim=1)
    labels = torch.tensor([0] * 10 + [1] * 8 + [2] * 12)
    total, count = pixel_contrast_terms(anchors, labels, 0.1)
    got = final(total, count, 0.1, 0.07)
    # every s = 1/tau: log p = -log(1 + |N_i|)
    num_neg = torch.tensor([20.] * 10 + [22.] * 8 + [18.] * 12)
    expected = (0.1 / 0.07) * torch.log1p(num_neg).mean()
    assert torch.allclose(got, expected, rtol=1e-6)


def _maps(b=2, num_classes=3, h=16, w=16, dim=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    embed = F.normalize(torch.randn(b, dim, h, w, generator=g), dim=1)
    label = torch.randint(0, num_classes, (b, h, w), generator=g)
    label[:, :2] = 255
    logits = torch.randn(b, num_classes, h, w, generator=g)
    return embed, logits, label


def test_sampling_views_and_hard_share():
    embed, logits, label = _maps(b=2, num_classes=3, h=32, w=32)
    flat = embed.permute(0, 2, 3, 1).reshape(2, -1, 8)
    preds = logits.argmax(1).reshape(2, -1)
    anchors, lbl = sample_anchors(flat, label.reshape(2, -1), preds, 3,
                                  max_samples=60, max_views=100,
                                  min_pixels=10)
    # 6 (image, class) pairs, n_view = min(60 // 6, 100) = 10
    assert anchors.shape == (60, 8)
    assert torch.bincount(lbl, minlength=3).tolist() == [20, 20, 20]
    # each anchor is a pixel of its class; hard/easy split 5/5 per pair
    emb_px = flat.reshape(-1, 8)
    lbl_px = label.reshape(-1)
    pred_px = preds.reshape(-1)
    match = (anchors[:, None] == emb_px[None]).all(-1)
    idx = match.float().argmax(1)
    assert match.any(1).all()
    assert torch.equal(lbl_px[idx], lbl)
    hard = (pred_px[idx] != lbl).view(6, 10).sum(1)
    assert hard.tolist() == [5] * 6
    assert len(set(idx.tolist())) == 60  # no pixel twice


def test_sampling_no_qualifying_class():
    embed, logits, label = _maps(h=4, w=4)
    flat = embed.permute(0, 2, 3, 1).reshape(2, -1, 8)
    anchors, lbl = sample_anchors(flat, label.reshape(2, -1),
                                  logits.argmax(1).reshape(2, -1), 3)
    assert anchors.shape == (0, 8) and lbl.shape == (0, )


def test_module_equals_reference_with_same_sampling():
    embed, logits, label = _maps(h=24, w=24)
    loss = PixelContrastLoss(max_views=20, min_pixels=5, loss_weight=1.0)
    torch.manual_seed(5)
    got = loss(embed, logits, label)
    torch.manual_seed(5)
    flat = embed.permute(0, 2, 3, 1).reshape(2, -1, 8)
    anchors, lbl = sample_anchors(flat, label.reshape(2, -1),
                                  logits.argmax(1).reshape(2, -1), 3,
                                  max_views=20, min_pixels=5)
    ref = brute_force(anchors, lbl, 0.1, 0.07)
    assert torch.allclose(got.double(), ref, rtol=1e-5)


def test_all_ignored_gives_zero_with_gradient():
    embed, logits, label = _maps()
    embed.requires_grad_()
    label[:] = 255
    out = PixelContrastLoss()(embed, logits, label)
    out.backward()
    assert out.item() == 0
    assert embed.grad is not None and torch.all(embed.grad == 0)


def test_bad_label_value_named():
    embed, logits, label = _maps()
    label[0, 5, 5] = 7
    with pytest.raises(ValueError, match=r'\[7\]'):
        PixelContrastLoss()(embed, logits, label)


def test_labels_resized_to_embedding():
    embed, logits, _ = _maps(h=8, w=8)
    label = torch.zeros(2, 1, 32, 32, dtype=torch.long)
    label[..., 16:] = 1
    out = PixelContrastLoss(min_pixels=3)(embed, logits, label)
    assert torch.isfinite(out) and out > 0


def test_warmup_zero_but_connected():
    embed, logits, label = _maps()
    embed.requires_grad_()
    loss = PixelContrastLoss(warmup_iters=10, min_pixels=5).train()
    hub = MessageHub.get_current_instance()
    hub.update_info('iter', 3)
    out = loss(embed, logits, label)
    out.backward()
    assert out.item() == 0 and embed.grad is not None
    hub.update_info('iter', 10)
    assert loss(embed, logits, label).item() > 0
    hub.update_info('iter', 0)


def test_amp_half_inputs_finite():
    embed, logits, label = _maps()
    # very peaked similarities: exp() would overflow in fp16
    out = PixelContrastLoss(temperature=0.01, base_temperature=0.01,
                            min_pixels=5)(embed.half(), logits.half(), label)
    assert out.dtype == torch.float32 and torch.isfinite(out)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out2 = PixelContrastLoss(min_pixels=5)(embed, logits, label)
    assert torch.isfinite(out2)


def test_memory_modes_fill_and_use_bank():
    embed, logits, label = _maps(h=16, w=16)
    bank = dict(type='CrossImageMemoryBank', num_classes=3, feat_dim=8,
                pixel_size=20, region_size=4, pixels_per_image=5)
    loss = PixelContrastLoss(contrast_with='memory', memory_bank=bank,
                             min_pixels=5).train()
    first = loss(embed, logits, label)
    assert first.item() == 0  # empty memory: no positives yet
    assert loss.memory_bank.pixel_filled.tolist() == [10, 10, 10]
    second = loss(embed, logits, label)
    assert second.item() > 0
    with pytest.raises(ValueError, match='memory_bank'):
        PixelContrastLoss(contrast_with='both')


MEMORY_KINDS = {
    'pixel': dict(pixel_size=20, region_size=0),
    'region': dict(pixel_size=0, region_size=6),
    'both': dict(pixel_size=20, region_size=6),
}
MINING = {
    'whole': None,
    'semi-hard': dict(top_ratio=0.5, num_pos=4, num_neg=8),
    'hardest': dict(strategy='hardest', num_pos=4, num_neg=8),
}


@pytest.mark.parametrize('kind', list(MEMORY_KINDS))
@pytest.mark.parametrize('mining', list(MINING))
@pytest.mark.parametrize('contrast_with', ['memory', 'both'])
def test_every_memory_mode_forward_backward_update(kind, mining,
                                                   contrast_with):
    """The paper's ablations (pixel / region / both memories; whole,
    semi-hard and hardest sampling): the loss uses the memory *before* this
    batch's update and backward works after the update wrote the queues
    (a pixel-only or region-only memory used to alias the live buffer)."""
    embed, logits, label = _maps(h=16, w=16)
    bank = dict(type='CrossImageMemoryBank', num_classes=3, feat_dim=8,
                pixels_per_image=5, **MEMORY_KINDS[kind])
    loss = PixelContrastLoss(contrast_with=contrast_with, memory_bank=bank,
                             min_pixels=5, memory_mining=MINING[mining],
                             loss_weight=1.0).train()
    loss(embed, logits, label)  # fill the memory
    embed2, _, _ = _maps(h=16, w=16, seed=1)
    embed2.requires_grad_()
    before = {k: v.clone() for k, v in loss.memory_bank.state_dict().items()}
    out = loss(embed2, logits, label)
    after = loss.memory_bank.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before
               if k.endswith('_queue') and before[k].numel())
    out.backward()
    assert out.item() > 0 and torch.isfinite(out)
    assert embed2.grad is not None and embed2.grad.abs().sum() > 0


def _one_pair_maps(num_hard, num_px=64, dim=4):
    """One image, one class (1) on ``num_px`` pixels, the first
    ``num_hard`` of them predicted as class 0."""
    embed = F.normalize(torch.randn(1, num_px, dim), dim=-1)
    labels = torch.ones(1, num_px, dtype=torch.long)
    preds = torch.ones(1, num_px, dtype=torch.long)
    preds[0, :num_hard] = 0
    return embed, labels, preds


@pytest.mark.parametrize('n_view,hard_ratio,want_hard',
                         [(11, 0.5, 5), (10, 0.2, 2)])
def test_hard_anchors_are_the_misclassified(n_view, hard_ratio, want_hard):
    """floor(n_view * hard_ratio) misclassified ("hard") anchors and the
    rest correctly classified, per (image, class), as officially."""
    torch.manual_seed(0)
    embed, labels, preds = _one_pair_maps(num_hard=30)
    anchors, lbl = sample_anchors(embed, labels, preds, 2, max_samples=n_view,
                                  max_views=n_view, min_pixels=0,
                                  hard_ratio=hard_ratio)
    idx = (anchors[:, None] == embed[0][None]).all(-1).float().argmax(1)
    assert anchors.shape[0] == n_view
    assert int((idx < 30).sum()) == want_hard


def test_small_classes_are_not_sampled():
    """An (image, class) pair is sampled only with more than min_pixels
    pixels (official: more than max_views)."""
    embed = F.normalize(torch.randn(1, 60, 4), dim=-1)
    labels = torch.zeros(1, 60, dtype=torch.long)
    labels[0, :5] = 1  # 5 pixels of class 1, 55 of class 0
    anchors, lbl = sample_anchors(embed, labels, labels.clone(), 2,
                                  max_samples=40, max_views=20,
                                  min_pixels=10)
    assert set(lbl.tolist()) == {0} and anchors.shape[0] == 20


def test_labels_nearest_resized():
    label = torch.zeros(1, 8, 8, dtype=torch.long)
    label[..., 1::2] = 2  # alternating columns 0 / 2
    out = resize_labels(label, (4, 4))
    assert torch.equal(out, label[:, ::2, ::2])  # never the average 1


def test_memory_read_before_update():
    """The loss contrasts with the memory as it was before this batch is
    written (official order: loss with the current queues, then enqueue)."""
    embed, logits, label = _maps(h=16, w=16)
    embed2, _, _ = _maps(h=16, w=16, seed=3)
    bank = dict(type='CrossImageMemoryBank', num_classes=3, feat_dim=8,
                pixel_size=8, region_size=2, pixels_per_image=4)
    loss = PixelContrastLoss(contrast_with='memory', memory_bank=bank,
                             min_pixels=5, loss_weight=1.0).train()
    loss(embed, logits, label)
    memory, valid = loss.memory_bank.contrast_set()
    torch.manual_seed(7)
    got = loss(embed2, logits, label)
    torch.manual_seed(7)
    flat = embed2.permute(0, 2, 3, 1).reshape(2, -1, 8)
    anchors, lbl = sample_anchors(flat, label.reshape(2, -1),
                                  logits.argmax(1).reshape(2, -1), 3,
                                  min_pixels=5)
    total, count = pixel_contrast_terms(anchors, lbl, 0.1, use_batch=False,
                                        memory=memory, memory_valid=valid)
    assert torch.allclose(got, final(total, count, 0.1, 0.07), atol=1e-6)


def _budget_batch():
    """Image 0 with 2 classes, image 1 with 4 (16 x 16, blocks of 64+)."""
    g = torch.Generator().manual_seed(0)
    embed = F.normalize(torch.randn(2, 8, 16, 16, generator=g), dim=1)
    label = torch.zeros(2, 16, 16, dtype=torch.long)
    label[0, 8:] = 1
    label[1, :8, 8:] = 1
    label[1, 8:, :8] = 2
    label[1, 8:, 8:] = 3
    logits = torch.randn(2, 4, 16, 16, generator=g)
    return embed, logits, label


def _budget_worker(rank, world, init_file, out_dir, budget, max_samples=40):
    import torch.distributed as dist
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=world)
    embed, logits, label = _budget_batch()
    loss = PixelContrastLoss(max_samples=max_samples, max_views=100,
                             min_pixels=5, sample_budget=budget)
    out = loss(embed[rank:rank + 1], logits[rank:rank + 1],
               label[rank:rank + 1])
    torch.save(dict(n=loss.last_num_anchors, loss=out.detach()),
               f'{out_dir}/budget_{budget}_{max_samples}_{rank}.pth')
    dist.destroy_process_group()


@pytest.mark.parametrize('budget', ['global', 'per_process'])
def test_sample_budget_two_gloo_processes(tmp_path, budget):
    """'global': 2 processes with one image each take as many anchors in
    total as one process with both images (6 pairs, 40 // 6 = 6 views
    each: 36), although their pair counts differ (2 and 4); 'per_process'
    (official) takes 40 on each process."""
    import torch.multiprocessing as mp
    mp.spawn(_budget_worker,
             args=(2, str(tmp_path / 'init'), str(tmp_path), budget),
             nprocs=2)
    n = [torch.load(str(tmp_path / f'budget_{budget}_40_{r}.pth'))['n']
         for r in range(2)]
    embed, logits, label = _budget_batch()
    one = PixelContrastLoss(max_samples=40, max_views=100, min_pixels=5,
                            sample_budget=budget)
    one(embed, logits, label)
    assert one.last_num_anchors == 36
    if budget == 'global':
        assert n == [12, 24] and sum(n) == one.last_num_anchors
    else:
        assert n == [40, 40]


@pytest.mark.parametrize('all_valid', [True, False])
def test_kept_half_similarities_match_recomputation(all_valid):
    """Whole-memory contrast: keeping the forward similarities in float16
    for backward gives the recomputed (float32) loss and gradient."""
    torch.manual_seed(3)
    anchors = rand_unit(64, 16)
    labels = torch.randint(0, 5, (64, ))
    memory = rand_unit(5, 40, 16)
    valid = torch.ones(5, 40, dtype=torch.bool) if all_valid else \
        torch.rand(5, 40) > 0.3
    out = {}
    for keep in ('float16', None):
        a = anchors.clone().requires_grad_()
        total, count = pixel_contrast_terms(
            a, labels, 0.07, use_batch=False, memory=memory,
            memory_valid=valid, memory_chunk_classes=2,
            memory_keep_dtype=keep)
        loss = final(total, count, 0.07, 0.07)
        loss.backward()
        out[keep] = (loss.detach(), a.grad)
    assert torch.allclose(out['float16'][0], out[None][0], rtol=1e-6)
    assert torch.allclose(out['float16'][1], out[None][1], rtol=2e-2,
                          atol=1e-4)


def test_global_budget_smaller_than_the_pairs_two_gloo_processes(tmp_path):
    """Fewer anchors than (image, class) pairs: one anchor for a random
    subset of pairs, the budget split over the processes by their pair
    counts (4 * 2 / 6 -> 1 and 4 * 4 / 6 -> 3): 4 in all, as one process
    with both images takes."""
    import torch.multiprocessing as mp
    mp.spawn(_budget_worker,
             args=(2, str(tmp_path / 'init'), str(tmp_path), 'global', 4),
             nprocs=2)
    n = [torch.load(str(tmp_path / f'budget_global_4_{r}.pth'))['n']
         for r in range(2)]
    embed, logits, label = _budget_batch()
    one = PixelContrastLoss(max_samples=4, max_views=100, min_pixels=5)
    one(embed, logits, label)
    assert n == [1, 3] and sum(n) == one.last_num_anchors == 4


@pytest.mark.parametrize('tau', [0.1, 0.01])
@pytest.mark.parametrize('keep', [None, torch.float64])
def test_memory_class_lse_any_upstream_gradient(tau, keep):
    """The chunked function equals plain autograd for upstream gradients of
    both signs (not only the contrast loss's >= 0 ones) and for a tau small
    enough (1 / tau > 60) to need the max-shifted log-sum-exp."""
    from cp2_mmseg.models.utils.memory_contrast import memory_class_lse
    torch.manual_seed(2)
    anchors = rand_unit(9, 6).double()
    memory = rand_unit(4, 7, 6).double()
    valid = torch.rand(4, 7) > 0.3
    valid[2] = False  # an empty class
    labels = torch.randint(0, 4, (9, ))
    w_lse, w_own = torch.randn(9, 4).double(), torch.randn(9, 7).double()
    a = anchors.clone().requires_grad_()
    lse, own = memory_class_lse(a, memory, valid, labels, tau, 3, keep)
    finite = torch.isfinite(lse)
    ((lse.where(finite, torch.zeros_like(lse)) * w_lse).sum() +
     (own * w_own).sum()).backward()
    b = anchors.clone().requires_grad_()
    sim = torch.einsum('ad,ctd->act', b, memory) / tau
    ref_lse = sim.masked_fill(~valid[None], float('-inf')).logsumexp(2)
    ref_own = sim[torch.arange(9), labels]
    ((ref_lse.where(finite, torch.zeros_like(ref_lse)) * w_lse).sum() +
     (ref_own * w_own).sum()).backward()
    assert torch.equal(torch.isfinite(ref_lse), finite)
    assert torch.allclose(lse[finite], ref_lse[finite], rtol=1e-10)
    assert torch.allclose(own, ref_own, rtol=1e-10)
    assert torch.allclose(a.grad, b.grad, rtol=1e-8, atol=1e-10)


def test_memory_class_lse_small_tau_float32_stays_finite():
    """1 / tau = 100: exp(s) overflows float32, so the log-sum-exp must be
    max-shifted; the float32 result equals a float64 reference."""
    from cp2_mmseg.models.utils.memory_contrast import memory_class_lse
    torch.manual_seed(3)
    anchors, memory = rand_unit(8, 6), rand_unit(3, 5, 6)
    memory[0, 0] = anchors[0]  # a similarity of exactly 1 / tau
    valid = torch.ones(3, 5, dtype=torch.bool)
    labels = torch.randint(0, 3, (8, ))
    lse, _ = memory_class_lse(anchors, memory, valid, labels, 0.01)
    ref = (torch.einsum('ad,ctd->act', anchors.double(), memory.double()) /
           0.01).logsumexp(2)
    assert torch.isfinite(lse).all()
    assert torch.allclose(lse.double(), ref, rtol=1e-5, atol=1e-4)


def test_no_qualifying_pair_warns_once_naming_min_pixels():
    """An 8x8 embedding has at most 64 pixels per (image, class): with the
    official min_pixels (= max_views = 100) nothing is sampled, the loss is
    0, and the log says why (once)."""
    from mmengine.logging import MMLogger
    embed, logits, label = _maps(h=8, w=8)
    loss = PixelContrastLoss().train()
    logger = MMLogger.get_current_instance()
    seen = []
    handler = __import__('logging').Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    logger.addHandler(handler)
    try:
        assert loss(embed, logits, label).item() == 0
        assert loss(embed, logits, label).item() == 0
    finally:
        logger.removeHandler(handler)
    hits = [m for m in seen if 'min_pixels=100' in m and '8x8' in m]
    assert len(hits) == 1
    assert PixelContrastLoss(min_pixels=2).train()(
        embed, logits, label).item() > 0
