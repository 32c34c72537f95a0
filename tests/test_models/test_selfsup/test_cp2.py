import copy
import os.path as osp

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmengine.registry import init_default_scope
from mmengine.structures import BaseDataElement
from mmseg.registry import MODELS

import cp2_mmseg  # noqa: F401
from cp2_mmseg.models import sample_mask_at_cells

BN = dict(type='BN', requires_grad=True)


def tiny_cfg(**kwargs):
    cfg = dict(
        type='CP2',
        backbone=dict(
            type='ResNet', depth=18, out_indices=(0, 1, 2, 3),
            strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2),
            contract_dilation=True, norm_cfg=BN, style='pytorch'),
        decode_head=dict(
            type='ASPPHead', in_channels=512, in_index=3, channels=16,
            dilations=(1, 2, 3, 4), num_classes=2, norm_cfg=BN),
        proj_channels=16, feat_dim=8, queue_len=12)
    cfg.update(kwargs)
    return cfg


def build(**kwargs):
    init_default_scope('mmseg')
    model = MODELS.build(tiny_cfg(**kwargs))
    model.init_weights()
    return model.train()


def batch(n=4, size=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    samples = []
    for _ in range(n):
        m = torch.zeros(2, size, size, dtype=torch.bool)
        m[0, 8:48, 10:50] = True
        m[1, 16:60, 4:44] = True
        samples.append(BaseDataElement(paste_masks=m))
    inputs = [
        torch.randint(0, 255, (n, 3, size, size), generator=g,
                      dtype=torch.uint8) for _ in range(2)
    ]
    return dict(inputs=inputs, data_samples=samples)


def step(model, data, optim=None):
    data = model.data_preprocessor(copy.deepcopy(data), True)
    losses = model(**data, mode='loss')
    if optim is not None:
        optim.zero_grad()
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        optim.step()
    return losses


def test_mask_sampling_cell_centres():
    m = torch.zeros(1, 224, 224)
    m[0, 8::16, 8::16] = 1
    assert sample_mask_at_cells(m, (14, 14)).sum() == 196
    m2 = torch.zeros(1, 64, 64)
    m2[0, :32] = 1
    assert sample_mask_at_cells(m2, (8, 8)).view(8, 8)[:4].all()
    assert not sample_mask_at_cells(m2, (8, 8)).view(8, 8)[4:].any()


def test_loss_keys_and_sanity():
    torch.manual_seed(0)
    model = build(queue_len=4096)
    losses = step(model, batch())
    assert set(losses) == {'loss_ins', 'loss_dense', 'acc_ins', 'acc_seg'}
    # at most about ln(K + 1) at initialisation: the identical encoders
    # make the positive at least as similar as the random queue entries
    assert 0 < losses['loss_ins'].item() < torch.log(
        torch.tensor(4097.)).item() + 0.5
    # dense loss (weight 0.2, no temperature): near-uniform similarities at
    # init give about 0.2 * ln(P), P = 4 x 4 cells at 64 px and stride 16
    assert abs(losses['loss_dense'].item() / 0.2 -
               torch.log(torch.tensor(16.)).item()) < 0.1


def test_gradients_reach_query_encoder_only():
    torch.manual_seed(0)
    model = build()
    losses = step(model, batch())
    (losses['loss_ins'] + losses['loss_dense']).backward()
    for name, p in model.named_parameters():
        if name.startswith('encoder_k'):
            assert p.grad is None and not p.requires_grad, name
        elif 'conv_seg' not in name:
            assert p.grad is not None, name


def test_momentum_update_and_queue_fifo():
    torch.manual_seed(0)
    model = build(momentum=0.01)
    optim = torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=0.5)
    key_w = model.encoder_k.module.backbone.conv1.weight
    q_init = model.backbone.conv1.weight.detach().clone()
    assert torch.equal(key_w, q_init)
    queue0 = model.queue.clone()
    step(model, batch(), optim)  # the key update runs before this SGD step
    assert torch.equal(key_w, q_init)
    assert not torch.equal(model.backbone.conv1.weight, q_init)
    assert model.queue_ptr.item() == 4
    assert torch.equal(model.queue[:, 4:], queue0[:, 4:])
    assert not torch.equal(model.queue[:, :4], queue0[:, :4])
    k_before = key_w.clone()
    q_now = model.backbone.conv1.weight.detach().clone()
    step(model, batch(seed=1), optim)
    expected = 0.99 * k_before + 0.01 * q_now
    assert torch.allclose(model.encoder_k.module.backbone.conv1.weight,
                          expected, atol=1e-6)
    for _ in range(2):  # 4 + 4 + 4 = 12: wraps to 0
        step(model, batch(seed=2), optim)
    assert model.queue_ptr.item() == 4


def test_resume_restores_queue_and_key_encoder(tmp_path):
    torch.manual_seed(0)
    model = build()
    step(model, batch())
    path = str(tmp_path / 'cp2.pth')
    torch.save(dict(state_dict=model.state_dict()), path)
    other = build()
    assert not torch.equal(other.queue, model.queue)
    sd = torch.load(path, weights_only=True)['state_dict']
    other.load_state_dict(sd)
    assert torch.equal(other.queue, model.queue)
    assert torch.equal(other.queue_ptr, model.queue_ptr)
    for (n, a), (_, b) in zip(model.encoder_k.state_dict().items(),
                              other.encoder_k.state_dict().items()):
        assert torch.equal(a, b), n


def test_empty_masks_raise():
    model = build()
    data = batch()
    for s in data['data_samples']:
        s.paste_masks[:] = False
    with pytest.raises(ValueError, match='empty paste mask'):
        step(model, data)


def test_quick_tune_backbone_layouts(tmp_path):
    init_default_scope('mmseg')
    src = MODELS.build(tiny_cfg()['backbone'])
    sd = src.state_dict()
    layouts = {
        'moco': {f'module.encoder_q.{k}': v for k, v in sd.items()},
        'torchvision': dict(sd),
        'mmpretrain': {f'backbone.{k}': v for k, v in sd.items()},
    }
    layouts['moco']['module.encoder_q.fc.0.weight'] = torch.zeros(2, 2)
    for name, layout in layouts.items():
        path = str(tmp_path / f'{name}.pth')
        torch.save(dict(state_dict=layout), path)
        model = build(backbone_checkpoint=path)
        for k, v in sd.items():
            assert torch.equal(model.backbone.state_dict()[k], v), (name, k)
        # the key encoder starts as a copy of the loaded query encoder
        assert torch.equal(model.encoder_k.module.backbone.conv1.weight,
                           sd['conv1.weight'])
    bad = str(tmp_path / 'bad.pth')
    torch.save(dict(state_dict={'foo.weight': torch.zeros(1)}), bad)
    with pytest.raises(KeyError, match='no key fits'):
        build(backbone_checkpoint=bad)


def _worker(rank, world, init_file, out_dir):
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=world)
    torch.manual_seed(0)  # same initial weights on both ranks
    model = build()
    losses = step(model, batch(seed=rank))
    torch.save(dict(queue=model.queue, ptr=model.queue_ptr,
                    loss=losses['loss_ins'].detach()),
               osp.join(out_dir, f'rank{rank}.pth'))
    dist.destroy_process_group()


def test_two_gloo_processes(tmp_path):
    mp.spawn(_worker, args=(2, str(tmp_path / 'init'), str(tmp_path)),
             nprocs=2)
    r0 = torch.load(str(tmp_path / 'rank0.pth'))
    r1 = torch.load(str(tmp_path / 'rank1.pth'))
    assert torch.equal(r0['queue'], r1['queue'])
    assert r0['ptr'].item() == r1['ptr'].item() == 8  # 4 keys x 2 ranks
    assert torch.isfinite(r0['loss']) and torch.isfinite(r1['loss'])


def _shuffle_bn_worker(rank, world, init_file, out_dir):
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=world)
    torch.manual_seed(0)
    model = build()
    n = 4
    # image j of rank r is the constant r * n + j: rows name their image
    ids = torch.arange(n) + rank * n
    im_k = ids.float()[:, None, None, None].expand(n, 3, 32, 32).clone()
    seen = {}

    def hook(mod, args, out):  # the first call: inside _encode_keys
        seen.setdefault('x', args[0].detach().clone())
        seen.setdefault('k', out.detach().clone())

    model.encoder_k.module.register_forward_hook(hook)
    k = model._encode_keys(im_k)
    # the same key encoder on this rank's own, unshuffled images
    local = model.encoder_k.module(im_k).detach()
    torch.save(dict(ids=ids, seen_ids=seen['x'][:, 0, 0, 0].round().long(),
                    seen_k=seen['k'], k=k, local=local),
               osp.join(out_dir, f'shuffle{rank}.pth'))
    dist.destroy_process_group()


def test_shuffle_bn_two_gloo_processes(tmp_path):
    """Shuffle BN: each process's key encoder normalises a sub-batch drawn
    from the whole global batch (not its own images), and the un-shuffle
    gives every image back the key computed for it."""
    mp.spawn(_shuffle_bn_worker,
             args=(2, str(tmp_path / 'init'), str(tmp_path)), nprocs=2)
    r = [torch.load(str(tmp_path / f'shuffle{i}.pth')) for i in range(2)]
    seen = torch.cat([x['seen_ids'] for x in r])
    assert sorted(seen.tolist()) == list(range(8))  # a permutation
    mixed = [set(x['seen_ids'].tolist()) != set(x['ids'].tolist()) for x in r]
    assert all(mixed), [x['seen_ids'] for x in r]
    seen_k = torch.cat([x['seen_k'] for x in r])
    for x in r:
        for i, img in enumerate(x['ids'].tolist()):
            j = (seen == img).nonzero().item()
            assert torch.equal(x['k'][i], seen_k[j])
        # BN statistics differ from those of the own batch
        assert not torch.allclose(x['k'], x['local'], atol=1e-4)


def test_cp2_pretraining_configs_use_plain_bn():
    """SyncBN would make shuffle BN a no-op; the official code uses BN."""
    import glob
    from mmengine.config import Config
    from ...conftest import REPO
    paths = glob.glob(osp.join(REPO, 'configs', 'cp2', 'cp2_*.py'))
    assert len(paths) >= 4
    for path in paths:
        cfg = Config.fromfile(path)
        for part in ('backbone', 'decode_head'):
            norm = cfg.model[part].get('norm_cfg')
            if norm is not None:  # ViT: LN
                assert norm['type'] in ('BN', 'LN'), (path, part, norm)


def _unequal_worker(rank, world, init_file, out_dir):
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=world)
    torch.manual_seed(0)
    model = build(queue_len=16)
    data = batch(seed=rank)
    # rank 1: two of its four images have an empty key mask
    if rank == 1:
        for s in data['data_samples'][:2]:
            s.paste_masks[1] = False
    losses = step(model, data)
    err = None
    # rank 0 has valid images; rank 1 none: both ranks must raise
    data = batch(seed=2 + rank)
    if rank == 1:
        for s in data['data_samples']:
            s.paste_masks[:] = False
    try:
        step(model, data)
    except ValueError as e:
        err = str(e)
    torch.save(dict(queue=model.queue, ptr=model.queue_ptr,
                    loss=losses['loss_ins'].detach(), err=err),
               osp.join(out_dir, f'unequal{rank}.pth'))
    dist.destroy_process_group()


def test_unequal_valid_counts_two_gloo_processes(tmp_path):
    """Ranks with different numbers of valid keys enqueue them all (4 + 2),
    and a batch without any valid image on one rank fails on every rank."""
    mp.spawn(_unequal_worker,
             args=(2, str(tmp_path / 'init'), str(tmp_path)), nprocs=2)
    r0, r1 = (torch.load(str(tmp_path / f'unequal{i}.pth'))
              for i in range(2))
    assert torch.equal(r0['queue'], r1['queue'])
    assert r0['ptr'].item() == r1['ptr'].item() == 6
    for r in (r0, r1):
        assert r['err'] is not None and 'rank(s) [1]' in r['err'], r['err']


def _official_reference(q, k, masks, queue):
    """CP2's losses as the official code computes them (spec section 3.5),
    per image in float64: masks point-sampled as ``mask[:, 8::16, 8::16]``
    (stride 16), FG-pooled unit embeddings, InfoNCE at T = 0.2 against the
    queue as it was before the step, dense log-softmax over the query
    pixels of each key pixel, no temperature, averaged over FG-FG pairs,
    weight 0.2."""
    q, k, queue = q.double(), k.double(), queue.double()
    ins, dense, kbars = [], [], []
    for n in range(q.shape[0]):
        mq = masks[n, 0][8::16, 8::16].flatten().double()
        mk = masks[n, 1][8::16, 8::16].flatten().double()
        qn = torch.nn.functional.normalize(q[n].flatten(1), dim=0)  # C, P
        kn = torch.nn.functional.normalize(k[n].flatten(1), dim=0)
        qbar = torch.nn.functional.normalize((qn * mq).sum(1), dim=0)
        kbar = torch.nn.functional.normalize((kn * mk).sum(1), dim=0)
        kbars.append(kbar)
        logits = torch.cat([(qbar @ kbar)[None], qbar @ queue]) / 0.2
        ins.append(-torch.log_softmax(logits, 0)[0])
        total, pairs = 0., 0.
        sim = qn.t() @ kn  # x (query) by y (key)
        for y in range(sim.shape[1]):
            if not mk[y]:
                continue
            log_p = torch.log_softmax(sim[:, y], 0)
            for x in range(sim.shape[0]):
                if mq[x]:
                    total = total - log_p[x]
                    pairs += 1
        dense.append(total / pairs)
    return (torch.stack(ins).mean(), 0.2 * torch.stack(dense).mean(),
            torch.stack(kbars))


def test_losses_equal_the_official_formulas():
    """Default CP2 (T = 0.2, dense: no temperature, softmax over query
    pixels, FG-FG positives, weight 0.2, masks at cell centres, queue read
    before this batch is enqueued, pooled *keys* enqueued) against a loop
    reference of the official code."""
    torch.manual_seed(0)
    model = build(queue_len=16)
    data = batch(n=3)
    seen = {}
    model.projector.register_forward_hook(
        lambda m, i, o: seen.setdefault('q', o.detach().clone()))
    model.encoder_k.module.register_forward_hook(
        lambda m, i, o: seen.update(k=o.detach().clone()))
    queue0 = model.queue.clone()
    losses = step(model, data)
    masks = torch.stack([s.paste_masks for s in data['data_samples']])
    ins, dense, kbars = _official_reference(seen['q'], seen['k'], masks,
                                            queue0)
    assert torch.allclose(losses['loss_ins'].double(), ins, atol=1e-5)
    assert torch.allclose(losses['loss_dense'].double(), dense, atol=1e-5)
    # the pooled keys, not the queries, enter the queue, in batch order
    assert torch.allclose(model.queue[:, :3].t().double(), kbars, atol=1e-5)
    assert torch.equal(model.queue[:, 3:], queue0[:, 3:])
