# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Benchmark: a CP2 pretraining step vs mmpretrain's MoCo v2 and DenseCL
steps, same ResNet-50, 224x224 crops and batch, on this machine's CPU or
GPU (``--device cuda``: synchronised times, peak CUDA memory; ``--amp``: fp16
autocast in the forward pass).

Each model is built from its config (mmpretrain's own MoCo v2 / DenseCL
configs through the ``mmpretrain::`` scope, our CP2 config), runs a warm-up
step and ``--steps`` timed steps (forward, backward, SGD) in a forked child
(own peak RSS); variants are interleaved over ``--reps`` repetitions and the
table gives medians. It also counts the forward multiply-accumulates of each
query encoder on one image: CP2's encoder (OS16 ResNet-50 + a 512-channel
ASPP at 14x14, as in the paper) does about 3.5x the work of MoCo v2's
(ResNet-50 at 7x7 + MLP neck), which bounds how close its step can get.

    python benchmarks/cp2_step.py [--batch 8] [--reps 3] [--steps 2]
        [--device cuda] [--amp]
"""
import argparse
import json
import os
import os.path as osp
import statistics
import sys

import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(REPO, 'benchmarks'))
from pixel_contrast_step import peak_mb, run_forked, sync  # noqa: E402

VARIANTS = [
    ('MoCo v2 (mmpretrain)',
     'mmpretrain::mocov2/mocov2_resnet50_8xb32-coslr-200e_in1k.py',
     'mmpretrain'),
    ('DenseCL (mmpretrain)',
     'mmpretrain::densecl/densecl_resnet50_8xb32-coslr-200e_in1k.py',
     'mmpretrain'),
    ('CP2 R50-OS16 + ASPP (ours)',
     osp.join(REPO, 'configs/cp2/cp2_r50-d16-aspp_8xb32-200e_in1k-224x224.py'),
     'mmseg'),
]


class _QueryEncoder(torch.nn.Module):
    """The trained (query) encoder of a self-supervisor, image -> features:
    backbone + neck (MoCo v2, DenseCL) or backbone + ASPP + projector
    (CP2)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        if hasattr(self.model, 'encode'):  # CP2
            return self.model.encode(x)
        return self.model.neck(self.model.backbone(x))


def encoder_gmacs(model, size=224):
    """Forward multiply-accumulates (G) of the query encoder on one image
    (mmengine's FlopAnalyzer, which counts a MAC as one 'flop')."""
    from mmengine.analysis import FlopAnalyzer
    enc = _QueryEncoder(model).eval()
    with torch.no_grad():
        analyzer = FlopAnalyzer(enc, torch.zeros(1, 3, size, size))
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        total = analyzer.total()
    enc.model.train()
    return total / 1e9


def measure(cfg_path, scope, batch, steps, device='cpu', amp=False):
    import time
    from mmengine.config import Config
    from mmengine.hub import get_config
    from mmengine.model.utils import revert_sync_batchnorm
    from mmengine.registry import MODELS, init_default_scope
    from mmengine.structures import BaseDataElement
    import cp2_mmseg  # noqa: F401
    # Config.fromfile takes a 'pkg::' scope only inside _base_
    cfg = get_config(cfg_path) if '::' in cfg_path else Config.fromfile(
        cfg_path)
    init_default_scope(scope)
    if scope == 'mmpretrain':
        import mmpretrain.models  # noqa: F401
        from mmpretrain.registry import MODELS as REG
    else:
        from mmseg.registry import MODELS as REG
    model = revert_sync_batchnorm(REG.build(cfg.model)).train()
    gmacs = encoder_gmacs(model)
    model = model.to(device).train()
    cuda = str(device).startswith('cuda')
    optim = torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=1e-3,
        momentum=0.9)
    g = torch.Generator().manual_seed(0)
    inputs = [torch.randint(0, 255, (batch, 3, 224, 224), generator=g,
                            dtype=torch.uint8) for _ in range(2)]
    samples = []
    for _ in range(batch):
        m = torch.zeros(2, 224, 224, dtype=torch.bool)
        m[0, 20:200, 30:190] = True
        m[1, 10:180, 40:210] = True
        if scope == 'mmpretrain':
            from mmpretrain.structures import DataSample
            samples.append(DataSample())
        else:
            samples.append(BaseDataElement(paste_masks=m))
    times, opt_times, outside, splits = [], [], [], []
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    for i in range(steps + 1):
        data = model.data_preprocessor(
            dict(inputs=[x.clone() for x in inputs], data_samples=samples),
            True)
        sync(device)
        t0 = time.perf_counter()
        with torch.autocast(torch.device(device).type, torch.float16,
                            enabled=amp):
            losses = model(**data, mode='loss')
        total = sum(v for k, v in losses.items() if 'loss' in k)
        optim.zero_grad()
        total.backward()
        sync(device)
        t1 = time.perf_counter()
        optim.step()
        sync(device)
        if i:
            times.append(time.perf_counter() - t0)
            opt_times.append(time.perf_counter() - t1)
            if hasattr(model, 'encode'):  # CP2: the encoders alone, paired
                split = encoder_split(model, data, 0, device, amp)
                outside.append(times[-1] - opt_times[-1] -
                               split['query_fwd_bwd'] - split['key_fwd'])
                splits.append(split)
    out = dict(time=statistics.median(times), peak_mb=peak_mb(device),
               optim_step=statistics.median(opt_times),
               finite=bool(torch.isfinite(total)), encoder_gmacs=gmacs)
    if splits:
        out.update(
            query_fwd_bwd=statistics.median(
                x['query_fwd_bwd'] for x in splits),
            key_fwd=statistics.median(x['key_fwd'] for x in splits),
            outside=statistics.median(outside))
    return out


def encoder_split(model, data, steps, device='cpu', amp=False):
    """CP2's step split: the query encoder's forward + backward and the key
    encoder's forward, timed alone on the same batch; the rest of the step
    (momentum update, shuffle, pooling, losses, queue) is what CP2 adds
    around them.

    Returns:
        dict: ``query_fwd_bwd`` and ``key_fwd`` seconds (medians).
    """
    import time
    im_q, im_k = data['inputs'][0], data['inputs'][1]
    enc, key = [], []
    for i in range(steps + 1):
        if steps == 0:  # one timed run (the caller pairs it with a step)
            i = 1
        sync(device)
        t0 = time.perf_counter()
        with torch.autocast(torch.device(device).type, torch.float16,
                            enabled=amp):
            q = model.encode(im_q)
        q.float().backward(torch.ones_like(q, dtype=torch.float32))
        sync(device)
        t1 = time.perf_counter()
        with torch.no_grad(), torch.autocast(
                torch.device(device).type, torch.float16, enabled=amp):
            model.encoder_k(im_k)
        sync(device)
        t2 = time.perf_counter()
        if i:
            enc.append(t1 - t0)
            key.append(t2 - t1)
    model.zero_grad()
    return dict(query_fwd_bwd=statistics.median(enc),
                key_fwd=statistics.median(key))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--reps', type=int, default=3)
    parser.add_argument('--steps', type=int, default=2)
    parser.add_argument('--device', default='cpu', help="'cpu' or 'cuda'")
    parser.add_argument('--amp', action='store_true')
    parser.add_argument('--only-cp2', action='store_true',
                        help='skip the MoCo v2 / DenseCL references')
    parser.add_argument('--out', default=osp.join(REPO, 'benchmarks',
                                                  'results', 'cp2.json'))
    args = parser.parse_args()
    print(f'torch {torch.__version__}, {os.cpu_count()} CPU threads, '
          f'batch {args.batch}, 224x224, device {args.device}, '
          f'amp {args.amp}')
    results = {}
    variants = VARIANTS[-1:] if args.only_cp2 else VARIANTS
    for rep in range(args.reps):
        for name, cfg, scope in variants:
            r = run_forked(measure, cfg, scope, args.batch, args.steps,
                           args.device, args.amp)
            print(f'rep {rep} {name}: {r}', flush=True)
            results.setdefault(name, []).append(r)
    ref = variants[0][0]
    base = statistics.median(r['time'] for r in results[ref])
    base_m = statistics.median(r['peak_mb'] for r in results[ref])
    mem = 'peak CUDA alloc' if args.device != 'cpu' else 'peak RSS'
    base_g = results[ref][0].get('encoder_gmacs', 0) or 1
    print(f'\n| model | step time (s) | vs MoCo v2 | {mem} (MB) | '
          'vs MoCo v2 | encoder GMACs/img | vs MoCo v2 |')
    print('|---|---|---|---|---|---|---|')
    for name, _, _ in variants:
        rs = [r for r in results[name] if 'error' not in r]
        if not rs:
            print(f'| {name} | error: {results[name][0]} |')
            continue
        t = statistics.median(r['time'] for r in rs)
        m = statistics.median(r['peak_mb'] for r in rs)
        g = rs[0]['encoder_gmacs']
        print(f'| {name} | {t:.2f} | {t / base:.2f}x | {m:.0f} | '
              f'{m / base_m:.2f}x | {g:.1f} | {g / base_g:.2f}x |')
    cp2 = [r for r in results[VARIANTS[-1][0]] if 'query_fwd_bwd' in r]
    if cp2:
        step = statistics.median(r['time'] for r in cp2)
        q = statistics.median(r['query_fwd_bwd'] for r in cp2)
        k = statistics.median(r['key_fwd'] for r in cp2)
        o = statistics.median(r['optim_step'] for r in cp2)
        # median of the per-step differences (each step timed right
        # before its encoders: robust to a machine whose speed drifts)
        rest = statistics.median(r['outside'] for r in cp2)
        print(f'\nCP2 step split: step {step:.3f} s = query encoder fwd+bwd '
              f'{q:.3f} s + key encoder fwd {k:.3f} s + optimiser step '
              f'{o:.3f} s (any model pays it) + CP2 outside the encoders '
              f'{rest:.3f} s ({100 * rest / step:.1f} % of the step; goal '
              '< 5 %)')
    os.makedirs(osp.dirname(args.out), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(dict(device=args.device, amp=args.amp, batch=args.batch,
                       results=results), f, indent=1)


if __name__ == '__main__':
    main()
