# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Benchmark: the cost of pixel contrast on a training step (CPU or GPU).

One run of this script measures, for DeepLabV3-R50-D8 and FCN-HRNet-W18 at
512x512, batch 2: the stock step and the +contrast step (i) in-batch only,
(ii) with the memory bank at the official code's Cityscapes size (19 classes,
5000 pixels + 5000 regions per class), (iii) at the paper's size (29750
pixels + 2975 regions per class, N = 2975). Each measurement runs in a
forked child of this process (so every variant gets its own peak-RSS
reading) and variants are interleaved; the table reports medians of the
step times and of the peak resident memory.

It also times the loss + memory update alone against the per-image /
per-class loop reference in ``loop_reference.py`` after checking both give
the same numbers.

    python benchmarks/pixel_contrast_step.py [--reps 3] [--steps 2]
        [--device cuda] [--amp]

On a GPU (``--device cuda``) the times are taken after
``torch.cuda.synchronize()`` and the memory column is the peak of
``torch.cuda.max_memory_allocated`` instead of the peak RSS; ``--amp`` runs
the forward pass under fp16 autocast, as mmengine's ``AmpOptimWrapper`` does.
"""
import argparse
import json
import os
import os.path as osp
import resource
import statistics
import sys
import time

import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(REPO, 'benchmarks'))

CITYSCAPES_MEM = dict(pixel_size=5000, region_size=5000)
PAPER_MEM = dict(pixel_size=29750, region_size=2975)


def variants(which):
    base = {
        'deeplabv3': 'configs/deeplabv3/'
        'deeplabv3_r50-d8_4xb2-40k_cityscapes-512x1024.py',
        'hrnet': 'configs/hrnet/fcn_hr18_4xb2-40k_cityscapes-512x1024.py'
    }
    contrast = {
        'deeplabv3': 'configs/pixel_contrast/'
        'deeplabv3-contrast_r50-d8_4xb2-40k_cityscapes-512x1024.py',
        'hrnet': 'configs/pixel_contrast/'
        'fcn-contrast_hr18_4xb2-40k_cityscapes-512x1024.py'
    }
    mining = dict(top_ratio=0.1, num_pos=1024, num_neg=2048)
    out = []
    for arch in which:
        out.append((f'{arch} stock', base[arch], None))
        out.append((f'{arch} +contrast (i) in-batch', contrast[arch],
                    dict(contrast_with='batch')))
        if arch == 'deeplabv3':  # the full-memory variants: one arch
            out.append((f'{arch} +contrast (ii) bank 5000+5000, all',
                        contrast[arch],
                        dict(contrast_with='memory', bank=CITYSCAPES_MEM)))
        out.append((f'{arch} +contrast (ii) bank 5000+5000, semi-hard',
                    contrast[arch],
                    dict(contrast_with='memory', bank=CITYSCAPES_MEM,
                         mining=mining)))
        if arch == 'deeplabv3':
            out.append((f'{arch} +contrast (iii) bank 29750+2975, all',
                        contrast[arch],
                        dict(contrast_with='memory', bank=PAPER_MEM)))
            out.append((f'{arch} +contrast (iii) bank 29750+2975, semi-hard',
                        contrast[arch],
                        dict(contrast_with='memory', bank=PAPER_MEM,
                             mining=mining)))
    return out


def fill_bank(bank):
    """A full bank (every slot written) with random unit vectors."""
    g = torch.Generator().manual_seed(0)
    for name in ('pixel', 'region'):
        q = getattr(bank, f'{name}_queue')
        if q.shape[1]:
            q.copy_(torch.nn.functional.normalize(
                torch.randn(q.shape, generator=g), dim=-1).to(q.dtype))
            getattr(bank, f'{name}_filled').fill_(q.shape[1])


def build(cfg_path, opts, device='cpu'):
    from mmengine.config import Config
    from mmengine.model.utils import revert_sync_batchnorm
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    import cp2_mmseg  # noqa: F401
    cfg = Config.fromfile(osp.join(REPO, cfg_path))
    cfg.model.pop('pretrained', None)
    cfg.model.data_preprocessor.size = (512, 512)
    if opts is not None:
        lc = cfg.model.decode_head.loss_contrast
        lc.warmup_iters = 0
        # one GPU of the official run: 1024 anchors for its 2 images
        lc.max_samples = 1024
        lc.sample_budget = 'per_process'
        lc.contrast_with = opts['contrast_with']
        if 'mining' in opts:
            lc.memory_mining = opts['mining']
        if 'bank' in opts:
            lc.memory_bank = dict(
                type='CrossImageMemoryBank', num_classes=19, feat_dim=256,
                pixels_per_image=10, **opts['bank'])
    init_default_scope('mmseg')
    model = revert_sync_batchnorm(MODELS.build(cfg.model)).to(device)
    if opts is not None and 'bank' in opts:
        fill_bank(model.decode_head.loss_contrast.memory_bank)
    return model.train()


def fake_batch(model):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    g = torch.Generator().manual_seed(0)
    samples = []
    for _ in range(2):
        # blocky labels: about 12 classes per image, like Cityscapes crops
        low = torch.randint(0, 19, (1, 8, 8), generator=g)
        label = torch.nn.functional.interpolate(
            low[None].float(), (512, 512), mode='nearest')[0].long()
        samples.append(SegDataSample(gt_sem_seg=PixelData(data=label)))
    data = dict(
        inputs=[torch.randint(0, 255, (3, 512, 512), generator=g,
                              dtype=torch.uint8) for _ in range(2)],
        data_samples=samples)
    return model.data_preprocessor(data, True)


def sync(device):
    """Wait for the device's queued work (no-op on the CPU)."""
    if str(device).startswith('cuda'):
        torch.cuda.synchronize()


def peak_mb(device):
    """Peak CUDA allocation on a GPU, peak resident memory on the CPU."""
    if str(device).startswith('cuda'):
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_measurement(cfg_path, opts, steps, device='cpu', amp=False):
    model = build(cfg_path, opts, device)
    optim = torch.optim.SGD(model.parameters(), lr=1e-4)
    data = fake_batch(model)
    cuda = str(device).startswith('cuda')
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    times, losses = [], {}
    for i in range(steps + 1):  # first step is a warm-up
        sync(device)
        t0 = time.perf_counter()
        with torch.autocast(torch.device(device).type, torch.float16,
                            enabled=amp):
            losses = model(**data, mode='loss')
        total = sum(v for k, v in losses.items() if 'loss' in k)
        optim.zero_grad()
        total.backward()
        optim.step()
        sync(device)
        if i:
            times.append(time.perf_counter() - t0)
    finite = all(bool(torch.isfinite(v).all()) for k, v in losses.items()
                 if 'loss' in k)
    return dict(time=statistics.median(times), peak_mb=peak_mb(device),
                finite=finite)


def run_forked(fn, *args):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            result = fn(*args)
        except BaseException as err:  # report, never hang the parent
            result = dict(error=repr(err))
        with os.fdopen(write, 'w') as f:
            json.dump(result, f)
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        data = f.read()
    os.waitpid(pid, 0)
    return json.loads(data)


def _median_time(fn, reps, device):
    out = []
    for _ in range(reps):
        sync(device)
        t0 = time.perf_counter()
        fn()
        sync(device)
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def floor_times(num_anchors, dim, num_entries, reps, device='cpu',
                chunk=4 * 10000, pool_size=0, own_size=0):
    """The work a memory contrast cannot avoid, timed at the same shapes.

    * ``gemm``: one anchor x memory similarity product (A x D by D x E);
    * ``gemm_grad``: the gradient product (A x E by E x D);
    * ``exp``: one element-wise exp-and-reduce pass over A x E;
    * ``whole``: forward + backward of the contrast against the whole
      memory: ``gemm + gemm_grad + 2 exp`` (the similarities are needed
      once, their softmax weights once);
    * ``semi_hard_scan``: ``gemm + exp`` (one scan of the whole memory
      without gradient; what is kept is small);
    * ``semi_hard``: our pooled sampler's own floor: the products with the
      negative pool (``pool_size`` entries) and with the own class
      (``own_size``), forward and backward, and one pass over the pool.

    Each pass runs in memory chunks of ``chunk`` entries, as the loss
    does, so the floor does not pay for a larger working set.

    Returns:
        dict: seconds per item.
    """
    g = torch.Generator().manual_seed(0)
    a = torch.nn.functional.normalize(
        torch.randn(num_anchors, dim, generator=g), dim=1).to(device)
    mem = torch.nn.functional.normalize(
        torch.randn(num_entries, dim, generator=g), dim=1).to(device)
    buf = torch.empty(num_anchors, min(chunk, num_entries), device=device)
    out = torch.empty(num_anchors, dim, device=device)

    def gemm():
        for c0 in range(0, num_entries, chunk):
            m = mem[c0:c0 + chunk]
            torch.mm(a, m.t(), out=buf[:, :m.shape[0]])

    def gemm_grad():
        for c0 in range(0, num_entries, chunk):
            m = mem[c0:c0 + chunk]
            out.addmm_(buf[:, :m.shape[0]], m)

    def exp_pass():
        for c0 in range(0, num_entries, chunk):
            n = min(chunk, num_entries - c0)
            torch.exp(buf[:, :n]).sum(1)

    gemm()  # warm-up
    t = dict(gemm=_median_time(gemm, reps, device),
             gemm_grad=_median_time(gemm_grad, reps, device),
             exp=_median_time(exp_pass, reps, device))
    t['whole'] = t['gemm'] + t['gemm_grad'] + 2 * t['exp']
    t['semi_hard_scan'] = t['gemm'] + t['exp']
    if pool_size and own_size:
        # pooled semi-hard: the pool's and the own class's products, each
        # forward and backward, and one selection pass over the pool
        small = {}
        for name, n in (('pool', pool_size), ('own', own_size)):
            m = mem[:n]
            sb = torch.empty(num_anchors, n, device=device)
            small[name] = _median_time(
                lambda: torch.mm(a, m.t(), out=sb), reps, device)
            if name == 'pool':
                small['pool_pass'] = _median_time(
                    lambda: torch.exp(sb).sum(1), reps, device)
        t['semi_hard'] = 2 * small['pool'] + 2 * small['own'] + small[
            'pool_pass']
    else:
        t['semi_hard'] = t['semi_hard_scan']
    gflop = 2 * num_anchors * dim * num_entries / 1e9
    t['gemm_gflops'] = gflop / t['gemm']
    return t


def bank_dtype_measurement(dtype, reps, device='cpu', mining=None):
    """Loss + update with the paper-size bank (19 x (29750 + 2975) x 256)
    stored in ``dtype`` (fp32 accumulation): time, bank size, peak memory
    and the loss value, for identical memory contents."""
    import cp2_mmseg  # noqa: F401
    from cp2_mmseg.models import PixelContrastLoss
    torch.manual_seed(0)
    num_classes, dim, h, w = 19, 256, 64, 128
    embed = torch.nn.functional.normalize(torch.randn(2, dim, h, w), dim=1)
    low = torch.randint(0, num_classes, (2, 1, 8, 16))
    labels = torch.nn.functional.interpolate(
        low.float(), (h, w), mode='nearest')[:, 0].long()
    logits = torch.randn(2, num_classes, h, w)
    embed, labels, logits = (t.to(device) for t in (embed, labels, logits))
    loss_mod = PixelContrastLoss(
        contrast_with='memory', loss_weight=1.0, memory_mining=mining,
        memory_bank=dict(type='CrossImageMemoryBank',
                         num_classes=num_classes, feat_dim=dim,
                         dtype=dtype, **PAPER_MEM)).train().to(device)
    fill_bank(loss_mod.memory_bank)  # same fp32 draws, cast to dtype
    bank_mb = sum(b.numel() * b.element_size()
                  for b in loss_mod.memory_bank.buffers()) / 2**20
    times, values = [], []
    for i in range(reps + 1):
        e = embed.clone().requires_grad_()
        torch.manual_seed(1)  # same anchors for every dtype
        sync(device)
        t0 = time.perf_counter()
        out = loss_mod(e, logits, labels)
        out.backward()
        sync(device)
        if i:
            times.append(time.perf_counter() - t0)
        values.append(float(out))
        fill_bank(loss_mod.memory_bank)  # undo the update: same contents
    return dict(time=statistics.median(times), bank_mb=bank_mb,
                peak_mb=peak_mb(device), loss=values[0])


def loss_only_comparison(reps, device='cpu'):
    """Vectorised loss + bank update vs the loop reference."""
    import cp2_mmseg  # noqa: F401
    from cp2_mmseg.models import CrossImageMemoryBank, PixelContrastLoss
    from cp2_mmseg.models.losses.pixel_contrast_loss import sample_anchors
    from loop_reference import (loop_contrast, loop_sample_anchors,
                                loop_update)
    torch.manual_seed(0)
    num_classes, dim, h, w = 19, 256, 64, 128  # HRNet at 1/4 of 256x512
    embed = torch.nn.functional.normalize(torch.randn(2, dim, h, w), dim=1)
    low = torch.randint(0, num_classes, (2, 1, 8, 16))
    labels = torch.nn.functional.interpolate(
        low.float(), (h, w), mode='nearest')[:, 0].long()
    logits = torch.randn(2, num_classes, h, w)
    embed, labels, logits = (t.to(device) for t in (embed, labels, logits))
    preds = logits.argmax(1)
    flat = embed.permute(0, 2, 3, 1).reshape(2, -1, dim)

    # 1) equality: deterministic settings (every pixel of every pair taken)
    a_fast, l_fast = sample_anchors(flat, labels.reshape(2, -1),
                                    preds.reshape(2, -1), num_classes, 255,
                                    10**9, 10**9, 0)
    a_loop, l_loop = loop_sample_anchors(flat, labels.reshape(2, -1),
                                         preds.reshape(2, -1), num_classes,
                                         255, 10**9, 10**9, 0)
    key = lambda a, l: sorted(  # noqa: E731
        zip(l.tolist(), a[:, :4].sum(1).tolist()))
    same_anchors = key(a_fast, l_fast) == key(a_loop, l_loop)
    bank_kw = dict(num_classes=num_classes, feat_dim=dim, pixel_size=5000,
                   region_size=5000, pixels_per_image=10**6)
    fast_bank, loop_bank = (CrossImageMemoryBank(**bank_kw).to(device),
                            CrossImageMemoryBank(**bank_kw).to(device))
    fast_bank.update(embed, labels)
    loop_update(loop_bank, embed, labels)
    same_bank = all(
        torch.equal(getattr(fast_bank, f'{n}_filled'),
                    getattr(loop_bank, f'{n}_filled'))
        for n in ('pixel', 'region'))
    for c in range(num_classes):
        n = int(fast_bank.pixel_filled[c])
        fs = fast_bank.pixel_queue[c, :n].sum(1).sort()[0]
        ls = loop_bank.pixel_queue[c, :n].sum(1).sort()[0]
        same_bank &= torch.allclose(fs, ls, atol=1e-5)
        nr = int(fast_bank.region_filled[c])
        same_bank &= torch.allclose(
            fast_bank.region_queue[c, :nr].sum(1).sort()[0],
            loop_bank.region_queue[c, :nr].sum(1).sort()[0], atol=1e-5)
    sub = torch.randperm(a_fast.shape[0], device=a_fast.device)[:1024]
    anchors, alabels = a_fast[sub], l_fast[sub]
    mem, valid = fast_bank.contrast_set()
    from cp2_mmseg.models import pixel_contrast_terms
    total, count = pixel_contrast_terms(anchors, alabels, 0.1, True, mem,
                                        valid)
    has = count > 0
    fast_loss = -(0.1 / 0.07) * (total[has] / count[has]).mean()
    loop_loss = loop_contrast(anchors, alabels, 0.1, 0.07, mem, valid, True)
    same_loss = torch.allclose(fast_loss, loop_loss, rtol=1e-4)

    # 2) speed: official settings (1024 anchors, V = 10) with a
    #    5000 + 5000 bank, loss forward + backward + bank update
    def fast_step(loss_mod):
        e = embed.clone().requires_grad_()
        loss_mod(e, logits, labels).backward()

    def loop_step(bank):
        e = embed.clone().requires_grad_()
        fl = e.permute(0, 2, 3, 1).reshape(2, -1, dim)
        a, lab = loop_sample_anchors(fl, labels.reshape(2, -1),
                                     preds.reshape(2, -1), num_classes, 255,
                                     1024, 100, 100)
        m, v = bank.contrast_set()
        loop_contrast(a, lab, 0.1, 0.07, m, v, True).backward()
        loop_update(bank, e.detach(), labels)

    bank_kw['pixels_per_image'] = 10
    mods = {}
    for name, mining in (('fast', None), ('fast_semi_hard', dict(
            top_ratio=0.1, num_pos=1024, num_neg=2048))):
        mods[name] = PixelContrastLoss(
            contrast_with='both', loss_weight=1.0, memory_mining=mining,
            memory_bank=dict(type='CrossImageMemoryBank', **bank_kw)).train()
        mods[name].to(device)
        fill_bank(mods[name].memory_bank)
    loop_bank = CrossImageMemoryBank(**bank_kw).to(device)
    fill_bank(loop_bank)
    batch_mod = PixelContrastLoss(contrast_with='batch', loss_weight=1.0)

    def loop_batch_step():
        e = embed.clone().requires_grad_()
        fl = e.permute(0, 2, 3, 1).reshape(2, -1, dim)
        a, lab = loop_sample_anchors(fl, labels.reshape(2, -1),
                                     preds.reshape(2, -1), num_classes, 255,
                                     1024, 100, 100)
        loop_contrast(a, lab, 0.1, 0.07, use_batch=True).backward()

    times = dict(fast=[], fast_semi_hard=[], loop=[], batch_fast=[],
                 batch_loop=[])
    def timed(key, fn, *args):
        sync(device)
        t0 = time.perf_counter()
        fn(*args)
        sync(device)
        times[key].append(time.perf_counter() - t0)

    cuda = str(device).startswith('cuda')
    for rep in range(reps + cuda):  # on a GPU, one untimed warm-up round
        timed('batch_fast', fast_step, batch_mod)
        timed('batch_loop', loop_batch_step)
        for name, mod in mods.items():
            timed(name, fast_step, mod)
        timed('loop', loop_step, loop_bank)
        if cuda and rep == 0:
            for v in times.values():
                v.clear()
    floor = floor_times(1024, dim, num_classes * 10000, max(reps, 1),
                        device, pool_size=2048 * 10, own_size=10000)
    return dict(
        same_anchors=same_anchors, same_bank=bool(same_bank),
        same_loss=bool(same_loss), fast_loss=float(fast_loss),
        loop_loss=float(loop_loss),
        floor={k: float(v) for k, v in floor.items()},
        **{k: statistics.median(v) for k, v in times.items()})


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--reps', type=int, default=3)
    parser.add_argument('--steps', type=int, default=2)
    parser.add_argument('--arch', nargs='+', default=['deeplabv3', 'hrnet'])
    parser.add_argument('--skip-steps', action='store_true')
    parser.add_argument('--skip-dtype', action='store_true',
                        help='skip the bank storage dtype comparison')
    parser.add_argument('--device', default='cpu', help="'cpu' or 'cuda'")
    parser.add_argument('--amp', action='store_true',
                        help='fp16 autocast in the training steps')
    parser.add_argument('--out', default=osp.join(REPO, 'benchmarks',
                                                  'results',
                                                  'pixel_contrast.json'))
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count())
    print(f'torch {torch.__version__}, {os.cpu_count()} CPU threads, '
          f'device {args.device}, amp {args.amp}')
    cmp = run_forked(loss_only_comparison, args.reps, args.device)
    print('\nLoss + bank update (1024 anchors, 19 classes, 5000+5000 bank, '
          'in-batch + memory), forward + backward + update:')
    print(json.dumps(cmp, indent=1))
    if 'fast' in cmp:
        fl = cmp['floor']
        print(f'floor (same shapes, this process): similarity GEMM '
              f'{fl["gemm"]:.3f} s ({fl["gemm_gflops"]:.0f} GFLOP/s), '
              f'gradient GEMM {fl["gemm_grad"]:.3f} s, exp pass '
              f'{fl["exp"]:.3f} s')
        for k, f in (('fast', 'whole'), ('fast_semi_hard', 'semi_hard')):
            print(f'memory, {k}: {cmp[k]:.3f} s vs loop reference '
                  f'{cmp["loop"]:.3f} s: {cmp["loop"] / cmp[k]:.1f}x; '
                  f'floor {fl[f]:.3f} s: {cmp[k] / fl[f]:.2f}x the floor')
        print(f'memory, fast_semi_hard vs a full scan of the memory '
              f'({fl["semi_hard_scan"]:.3f} s): '
              f'{cmp["fast_semi_hard"] / fl["semi_hard_scan"]:.2f}x')
        print(f'in-batch only: {cmp["batch_fast"]:.3f} s vs loop reference '
              f'{cmp["batch_loop"]:.3f} s: '
              f'{cmp["batch_loop"] / cmp["batch_fast"]:.1f}x')
    if not args.skip_dtype:
        print('\nPaper-size bank (19 x (29750 + 2975) x 256), 1024 anchors, '
              'loss + update, by storage dtype (fp32 accumulation):')
        print('| sampling | dtype | time (s) | bank (MB) | peak (MB) | '
              'loss | loss - fp32 loss |')
        print('|---|---|---|---|---|---|---|')
        cmp['bank_dtype'] = {}
        for mname, mining in (('whole', None), ('semi-hard', dict(
                top_ratio=0.1, num_pos=1024, num_neg=2048))):
            ref = None
            for dtype in ('float32', 'bfloat16', 'float16'):
                r = run_forked(bank_dtype_measurement, dtype, args.reps,
                               args.device, mining)
                cmp['bank_dtype'][f'{mname} {dtype}'] = r
                if 'error' in r:
                    print(f'| {mname} | {dtype} | error {r["error"]} |')
                    continue
                ref = r['loss'] if ref is None else ref
                print(f'| {mname} | {dtype} | {r["time"]:.2f} | '
                      f'{r["bank_mb"]:.0f} | {r["peak_mb"]:.0f} | '
                      f'{r["loss"]:.5f} | {r["loss"] - ref:+.2e} |',
                      flush=True)
    results = {}
    if not args.skip_steps:
        plan = variants(args.arch)
        for rep in range(args.reps):
            for name, cfg, opts in plan:
                r = run_forked(one_measurement, cfg, opts, args.steps,
                               args.device, args.amp)
                print(f'rep {rep} {name}: {r}', flush=True)
                results.setdefault(name, []).append(r)
        mem = 'peak CUDA alloc' if args.device != 'cpu' else 'peak RSS'
        print(f'\n| variant | step time (s) | vs stock | {mem} (MB) '
              '| vs stock |')
        print('|---|---|---|---|---|')
        for name, _, _ in plan:
            rs = [r for r in results[name] if 'error' not in r]
            if not rs:
                print(f'| {name} | error: {results[name][0]["error"]} |')
                continue
            t = statistics.median(r['time'] for r in rs)
            m = statistics.median(r['peak_mb'] for r in rs)
            stock = results[name.split(' ')[0] + ' stock']
            st = statistics.median(r['time'] for r in stock)
            sm = statistics.median(r['peak_mb'] for r in stock)
            print(f'| {name} | {t:.2f} | {t / st:.2f}x | {m:.0f} | '
                  f'{m / sm:.2f}x |')
    os.makedirs(osp.dirname(args.out), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(dict(device=args.device, amp=args.amp, loss_only=cmp,
                       steps=results), f, indent=1)
    print(f'\nwrote {args.out}')


if __name__ == '__main__':
    main()
