# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Forward + backward time of the auxiliary-label contrast against the
pixel contrast (Wang et al.) at the same anchor count, on the CPU or a GPU.

    python benchmarks/aux_contrast_step.py [--views 16] [--size 64 64]
        [--anchors 1024] [--k 32] [--classes 19] [--reps 5] [--device cpu]

Both losses get the same (N, 256, h, w) embeddings (N views: for the
auxiliary contrast, N / 2 images with two views each). The pixel contrast
takes ``anchors`` anchors (max_samples) and contrasts them with each other
(in-batch, the official default); the auxiliary contrast takes the same
number of anchors and contrasts each with *every* pixel of the batch
(N x h x w), chunked. The two runs alternate, so background load hits both.
Prints median seconds per forward + backward and peak memory (CUDA only)
as JSON.
"""
import argparse
import json
import statistics
import time

import torch

from cp2_mmseg.models.losses import AuxPixelContrastLoss, PixelContrastLoss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--views', type=int, default=16)
    parser.add_argument('--size', type=int, nargs=2, default=[64, 64])
    parser.add_argument('--channels', type=int, default=256)
    parser.add_argument('--anchors', type=int, default=1024)
    parser.add_argument('--k', type=int, default=32)
    parser.add_argument('--classes', type=int, default=19)
    parser.add_argument('--reps', type=int, default=5)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out')
    args = parser.parse_args()
    dev = torch.device(args.device)
    g = torch.Generator().manual_seed(0)
    N, (h, w) = args.views, args.size
    H, W = 8 * h, 8 * w  # labels at input resolution (OS8)
    embed = torch.randn(N, args.channels, h, w, generator=g).to(dev)
    # blocky labels, as real maps are
    aux = torch.randint(0, args.k, (N, h // 4 + 1, w // 4 + 1), generator=g)
    aux = aux.repeat_interleave(32, 1).repeat_interleave(32, 2)[:, :H, :W]
    cls = torch.randint(0, args.classes, (N, h // 4 + 1, w // 4 + 1),
                        generator=g)
    cls = cls.repeat_interleave(32, 1).repeat_interleave(32, 2)[:, :H, :W]
    logits = torch.randn(N, args.classes, h, w, generator=g).to(dev)
    ys, xs = torch.meshgrid(torch.arange(H, dtype=torch.float32),
                            torch.arange(W, dtype=torch.float32),
                            indexing='ij')
    coord = torch.stack([ys, xs])[None].repeat(N, 1, 1, 1)
    coord[N // 2:] = coord[N // 2:].flip(-1)
    image_id = torch.arange(N) % (N // 2)
    view = torch.arange(N) // (N // 2)
    aux, cls, coord = aux.to(dev), cls.to(dev), coord.to(dev)
    aux_loss = AuxPixelContrastLoss(max_anchors=args.anchors)
    pc_loss = PixelContrastLoss(max_samples=args.anchors, max_views=100,
                                loss_weight=1.0)

    def run_aux():
        e = embed.clone().requires_grad_(True)
        aux_loss(e, aux, coord, image_id, view).backward()

    def run_pc():
        e = torch.nn.functional.normalize(embed, dim=1).clone()
        e.requires_grad_(True)
        pc_loss(e, logits, cls).backward()

    times = {'aux_contrast': [], 'pixel_contrast': []}
    for fn in (run_aux, run_pc):  # warm-up
        fn()
    for _ in range(args.reps):
        for name, fn in (('aux_contrast', run_aux),
                         ('pixel_contrast', run_pc)):
            if dev.type == 'cuda':
                torch.cuda.synchronize()
            t = time.perf_counter()
            fn()
            if dev.type == 'cuda':
                torch.cuda.synchronize()
            times[name].append(time.perf_counter() - t)
    out = dict(
        setting=dict(views=N, size=[h, w], channels=args.channels,
                     anchors=args.anchors, contrast_pixels=N * h * w,
                     k=args.k, classes=args.classes, device=args.device,
                     threads=torch.get_num_threads(), reps=args.reps),
        median_s={k: round(statistics.median(v), 4)
                  for k, v in times.items()},
        pc_last_num_anchors=getattr(pc_loss, 'last_num_anchors', None))
    out['ratio_aux_over_pc'] = round(
        out['median_s']['aux_contrast'] / out['median_s']['pixel_contrast'],
        2)
    print(json.dumps(out, indent=1))
    if args.out:
        with open(args.out, 'w') as fh:
            json.dump(out, fh, indent=1)


if __name__ == '__main__':
    main()
