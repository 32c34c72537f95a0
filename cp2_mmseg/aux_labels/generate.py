# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Auxiliary labels for a data set from a frozen feature extractor.

Pass 1 samples ``samples_per_image`` L2-normalised feature vectors of every
image (seeded per image index), at the resolution the labels are assigned
at, and fits one K-means codebook on all of them; the outlier threshold is the ``1 - outlier_ratio`` quantile of the
sample's distances to their centroids (globally or per cluster). Pass 2
bilinearly resizes each image's features to 1 / ``label_stride`` of the
image, assigns every position to its nearest centroid, marks outliers
``ignore_index``, nearest-upsamples to the image size and writes
``<stem>.png`` (uint8; uint16 with ignore 65535 when K > 254).
``mode='pred'`` uses a segmentor's predicted classes (K = C) and marks the
``outlier_ratio`` least confident pixels (max softmax) ignore.

DBSCAN settings (the paper's clustering ablation, ``dbscan_eps``) fit
:func:`~.dbscan.dbscan` on a ``dbscan_samples`` subsample of the same fit
sample; every pixel then takes the cluster of its nearest core point within
eps, the rest (DBSCAN's noise) is written as ignore. K is what DBSCAN finds.

Under torch.distributed (``tools/generate_aux_labels.py --launcher
pytorch``) every process takes a contiguous block of the images, so the
shards of the fit sample, in rank order, are the one-process sample: the
same seed gives the same centroids and labels with any number of
processes. K-means and the outlier threshold reduce over all processes
(:mod:`.kmeans`); the DBSCAN subsample is gathered to every process; each
process writes its own images' labels and rank 0 the metadata.

Writes ``meta.json`` (extractor config, checkpoint and its SHA-256, mode,
layer, K, outlier rule and thresholds, seed, sample size, inertia, label
counts), ``centroids.npy`` and ``preview.png`` (image | auxiliary labels |
ground truth for a few images).
"""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from mmengine import dist
from mmengine.logging import print_log
from mmengine.utils import ProgressBar

from ..models.utils.dist_utils import all_gather_cat
from .dbscan import dbscan, dbscan_assign
from .extractor import FeatureExtractor, features_at, file_sha256
from .kmeans import assign, global_subsample, kmeans, outlier_threshold


def split_dataset_cfg(cfg, split: str) -> dict:
    """The data set config of a config's ``<split>_dataloader``, through
    wrappers such as ``RepeatDataset`` (a ``ConcatDataset`` is kept).

    Raises:
        KeyError: naming the config when it has no such dataloader.
    """
    loader = cfg.get(f'{split}_dataloader')
    if not loader:
        raise KeyError(f'{cfg.filename} has no {split}_dataloader')
    ds = dict(loader['dataset'])
    while 'dataset' in ds and ds.get('type') != 'ConcatDataset':
        ds = dict(ds['dataset'])
    return ds


def _palette(n: int) -> np.ndarray:
    rng = np.random.default_rng(12345)
    pal = rng.integers(40, 255, (max(n, 1), 3), dtype=np.uint8)
    return pal


def _colour(label: np.ndarray, ignore: int, pal: np.ndarray) -> np.ndarray:
    out = np.zeros(label.shape + (3, ), np.uint8)
    ok = (label != ignore) & (label < len(pal))
    out[ok] = pal[label[ok]]
    return out


def _image_tensor(item: dict) -> torch.Tensor:
    img = item['img']
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))


def generate_aux_labels(extractor: FeatureExtractor,
                        dataset,
                        out_dir: str,
                        k: Optional[int] = None,
                        outlier_ratio: float = 0.05,
                        outlier_scope: str = 'global',
                        **kwargs) -> Dict:
    """Write one auxiliary label PNG per image of ``dataset``.

    One setting of :func:`generate_aux_label_sets`, written into
    ``out_dir`` itself.

    Args:
        extractor (FeatureExtractor): The frozen model.
        dataset: An mmseg data set whose pipeline loads the image.
        out_dir (str): Output folder.
        k (int, optional): Clusters; ``'pred'`` mode uses the classes.
        outlier_ratio (float): Share of pixels marked ignore (paper: 5 %).
        outlier_scope (str): 'global' or 'per_cluster'.
        **kwargs: The other arguments of :func:`generate_aux_label_sets`.

    Returns:
        dict: The metadata written to ``meta.json``.
    """
    metas = generate_aux_label_sets(
        extractor, dataset, out_dir, ks=[k], outlier_ratios=[outlier_ratio],
        outlier_scope=outlier_scope, subdirs=False, **kwargs)
    return metas[0]


def setting_name(k: int, outlier_ratio: float) -> str:
    """Folder of one (K, outlier share) setting, e.g. ``k32_o0.05``."""
    return f'k{k}_o{outlier_ratio:g}'


def duplicate_images(dataset, img_suffix: Optional[str] = None) -> set:
    """Indices whose image already occurred earlier in ``dataset`` (e.g. an
    image listed in two splits): their label is written once.

    Raises:
        ValueError: when two *different* images map to the same label file
            (the same name in two folders), naming both; the second would
            silently overwrite the first.
    """
    from ..datasets.transforms import LoadAuxLabel
    namer = LoadAuxLabel('', img_suffix=img_suffix)
    seen, skip = {}, set()
    for i in range(len(dataset)):
        img = dataset.get_data_info(i)['img_path']
        out = namer.aux_path(img)
        if out not in seen:
            seen[out] = img
        elif seen[out] == img:
            skip.add(i)  # the same image again
        else:
            raise ValueError(
                f'{seen[out]} and {img} would both be labelled as {out!r}: '
                'auxiliary labels are named by the image file name, so '
                'generate each split into its own folder')
    return skip


def dbscan_setting_name(eps: float, min_samples: int) -> str:
    """Folder of one DBSCAN setting, e.g. ``dbscan_e0.3_m10``."""
    return f'dbscan_e{eps:g}_m{min_samples}'


def generate_aux_label_sets(extractor: FeatureExtractor,
                            dataset,
                            out_root: str,
                            ks: Sequence[Optional[int]],
                            outlier_ratios: Sequence[float] = (0.05, ),
                            outlier_scope: str = 'global',
                            samples_per_image: int = 256,
                            label_stride: int = 4,
                            seed: int = 0,
                            n_init: int = 3,
                            max_iter: int = 100,
                            img_suffix: Optional[str] = None,
                            num_preview: int = 4,
                            subdirs: bool = True,
                            dbscan_eps: Sequence[float] = (),
                            dbscan_min_samples: int = 10,
                            dbscan_samples: int = 20000) -> List[Dict]:
    """Auxiliary labels for several (K, outlier share) settings at once.

    The features of every image are computed twice in all (fit sample,
    then assignment), however many settings: each K gets its own K-means
    fit on the shared sample, each (K, share) its own threshold, and pass 2
    assigns every image's features to every codebook. Settings are written
    to ``out_root/k<K>_o<share>/`` (:func:`setting_name`), or to
    ``out_root`` itself for a single setting with ``subdirs=False``.

    Args:
        extractor (FeatureExtractor): The frozen model.
        dataset: An mmseg data set whose pipeline loads the image
            (``LoadImageFromFile``; with ``LoadAnnotations`` the preview
            shows the ground truth).
        out_root (str): Output folder.
        ks (list[int]): Cluster counts; ``'pred'`` mode uses the classes.
        outlier_ratios (list[float]): Shares of pixels marked ignore
            (paper: 5 %).
        outlier_scope (str): 'global' or 'per_cluster'.
        samples_per_image (int): Feature vectors sampled per image for
            the fit.
        label_stride (int): Labels are assigned at 1 / label_stride of the
            image and nearest-upsampled. Defaults to 4.
        seed (int): Seed of the sampling and of K-means.
        n_init (int): K-means restarts.
        max_iter (int): K-means iterations per restart.
        img_suffix (str, optional): Stripped from image names (see
            :class:`LoadAuxLabel`).
        num_preview (int): Images in ``preview.png``.
        subdirs (bool): One folder per setting (see above).
        dbscan_eps (list[float]): DBSCAN radii, one setting each (folder
            :func:`dbscan_setting_name`), besides the K-means settings.
        dbscan_min_samples (int): DBSCAN's core-point count.
        dbscan_samples (int): Points of the fit sample DBSCAN clusters
            (it is quadratic).

    Returns:
        list[dict]: The metadata written to each ``meta.json``.
    """
    from ..datasets.transforms import LoadAuxLabel
    pred = extractor.mode == 'pred'
    if pred:
        if dbscan_eps:
            raise ValueError("DBSCAN needs features; mode='pred' labels are "
                             'the predicted classes')
        ks = [extractor.num_classes]
    ks = sorted(set(ks))
    for k in ks:
        if not k or k < 1:
            raise ValueError(f'generate_aux_labels: k must be >= 1, got {k}')
    settings = [('kmeans', k, r) for k in ks for r in outlier_ratios] + [
        ('dbscan', None, e) for e in sorted(set(dbscan_eps))]
    if not subdirs and len(settings) != 1:
        raise ValueError('subdirs=False needs exactly one setting, got '
                         f'{settings}')
    rank, world = dist.get_rank(), dist.get_world_size()
    if len(dataset) < world:
        raise ValueError(f'{world} processes for {len(dataset)} images')
    skip = duplicate_images(dataset, img_suffix)
    mine = range(len(dataset) * rank // world,
                 len(dataset) * (rank + 1) // world)

    def features(i):
        item = dataset[i]
        x = extractor.preprocess([_image_tensor(item)])
        return item, extractor(x)

    # pass 1: the fit sample (this process's block of images)
    samples = []
    bar = ProgressBar(len(mine)) if rank == 0 else None
    for i in mine:
        _, f = features(i)
        g = torch.Generator().manual_seed(seed * 1000003 + i)
        if pred:
            conf = F.softmax(f.float(), dim=1).max(1)[0].flatten()
            idx = torch.randperm(conf.numel(), generator=g)
            samples.append(conf[idx[:samples_per_image].to(conf.device)])
        else:  # at the resolution labels are assigned at (1/label_stride)
            in_h, in_w = extractor.last_input_size
            size = (max(1, in_h // label_stride), max(1, in_w // label_stride))
            f = features_at(f, size)[0].flatten(1).t()  # (hw, D)
            idx = torch.randperm(f.shape[0], generator=g)
            samples.append(f[idx[:samples_per_image].to(f.device)])
        if bar:
            bar.update()
    sample = torch.cat(samples)
    n_fit = int(all_gather_cat(
        torch.tensor([sample.shape[0]], device=sample.device)).sum())
    base_meta = dict(extractor_config=extractor.config,
                     checkpoint=extractor.checkpoint,
                     checkpoint_sha256=file_sha256(extractor.checkpoint)
                     if extractor.checkpoint else None,
                     mode=extractor.mode, layer=extractor.layer,
                     input_scale=getattr(extractor, 'input_scale', 1.0),
                     outlier_scope=outlier_scope, seed=seed,
                     samples_per_image=samples_per_image,
                     label_stride=label_stride,
                     fit_sample=n_fit, images=len(dataset),
                     processes=world)
    fits = {}
    for k in ks:
        if not pred:
            km = kmeans(sample, k, n_init=n_init, max_iter=max_iter,
                        seed=seed)
            labels, dists = assign(sample, km['centroids'])
            fits[k] = (km, labels, dists)
    if dbscan_eps:  # one subsample, the same on every process
        sub = global_subsample(
            sample, dbscan_samples,
            torch.Generator().manual_seed(seed * 1000003 + 999))
    states = []
    for algo, k, ratio in settings:
        if algo == 'dbscan':
            eps = ratio
            fit = dbscan(sub, eps, dbscan_min_samples)
            core = fit['core']
            print_log(
                f'DBSCAN eps={eps:g} min_samples={dbscan_min_samples} on '
                f'{sub.shape[0]} points: {fit["num_clusters"]} clusters, '
                f'{int(core.sum())} core points, '
                f'{100 * fit["noise_share"]:.1f} % noise', logger='current')
            k = max(fit['num_clusters'], 1)
            name = dbscan_setting_name(eps, dbscan_min_samples)
        else:
            name = setting_name(k, ratio)
        out_dir = osp.join(out_root, name) if subdirs else out_root
        os.makedirs(out_dir, exist_ok=True)
        ignore = 255 if k <= 254 else 65535
        meta = dict(base_meta, setting=name, clustering=algo, k=int(k),
                    ignore_index=ignore)
        st = dict(k=k, out_dir=out_dir, ignore=ignore, meta=meta,
                  namer=LoadAuxLabel(out_dir, img_suffix=img_suffix),
                  counts=np.zeros(k + 1, np.int64), preview=[])
        if algo == 'dbscan':
            st['core_points'] = sub[core]
            st['core_labels'] = fit['labels'][core]
            st['eps'] = eps
            meta.update(dbscan_eps=eps, dbscan_min_samples=dbscan_min_samples,
                        dbscan_sample=int(sub.shape[0]),
                        dbscan_core_points=int(core.sum()),
                        dbscan_sample_noise_share=fit['noise_share'])
            if rank == 0:
                np.save(osp.join(out_dir, 'core_points.npy'),
                        st['core_points'].cpu().numpy())
                np.save(osp.join(out_dir, 'core_labels.npy'),
                        st['core_labels'].cpu().numpy())
        elif pred:
            meta['outlier_ratio'] = ratio
            allc = all_gather_cat(sample)
            n_out = int(ratio * allc.numel())
            meta['confidence_threshold'] = float(
                allc.sort()[0][n_out]) if n_out else -1.
        else:
            meta['outlier_ratio'] = ratio
            km, labels, dists = fits[k]
            st['centroids'] = km['centroids']
            st['thr'] = outlier_threshold(dists, labels, k, ratio,
                                          outlier_scope)
            meta.update(inertia=km['inertia'], kmeans_iters=km['n_iter'],
                        thresholds=[float(t) for t in st['thr']])
            if rank == 0:
                np.save(osp.join(out_dir, 'centroids.npy'),
                        km['centroids'].cpu().numpy())
        states.append(st)
    # pass 2: one label map per image and setting (this process's block)
    pal = _palette(max(max(st['k'] for st in states), 256))
    bar = ProgressBar(len(mine)) if rank == 0 else None
    for i in mine:
        if i in skip:  # written at its first occurrence
            if bar:
                bar.update()
            continue
        item, f = features(i)
        h, w = item['img'].shape[:2]
        if pred:
            prob = F.softmax(f.float(), dim=1)[0, :, :h, :w]
            conf, pred_lab = prob.max(0)
        else:
            in_h, in_w = extractor.last_input_size  # padded input
            size = (max(1, in_h // label_stride), max(1, in_w // label_stride))
            flat = features_at(f, size)[0].flatten(1).t()
        for st in states:
            ignore = st['ignore']
            if pred:
                lab = pred_lab.clone()
                lab[conf < st['meta']['confidence_threshold']] = ignore
            elif 'eps' in st:
                lab = dbscan_assign(flat, st['core_points'],
                                    st['core_labels'], st['eps'])
                lab[lab < 0] = ignore
                lab = F.interpolate(
                    lab.reshape(size)[None, None].float(),
                    size=(in_h, in_w), mode='nearest')[0, 0].long()[:h, :w]
            else:
                lab, d = assign(flat, st['centroids'])
                lab[d.double() > st['thr'][lab]] = ignore
                lab = F.interpolate(
                    lab.reshape(size)[None, None].float(),
                    size=(in_h, in_w), mode='nearest')[0, 0].long()[:h, :w]
            label = lab.cpu().numpy().astype(
                np.uint8 if ignore == 255 else np.uint16)
            cv2.imwrite(st['namer'].aux_path(item['img_path']), label)
            k = st['k']
            valid = label != ignore
            st['counts'][:k] += np.bincount(
                label[valid].ravel().astype(np.int64), minlength=k)[:k]
            st['counts'][k] += int((~valid).sum())
            if len(st['preview']) < num_preview:
                row = [item['img'][..., :3] if item['img'].ndim == 3 else
                       np.repeat(item['img'][..., None], 3, 2),
                       _colour(label, ignore, pal)]
                gt = item.get('gt_seg_map')
                if gt is not None:
                    row.append(_colour(gt, 255, pal[::-1].copy()))
                st['preview'].append(np.concatenate(row, axis=1))
        if bar:
            bar.update()
    metas = []
    for st in states:
        meta, k = st['meta'], st['k']
        counts = torch.from_numpy(st['counts']).to(sample.device)
        if world > 1:
            dist.all_reduce(counts, op='sum')
        counts = counts.cpu().numpy()
        meta['label_counts'] = counts[:k].tolist()
        meta['ignored_pixels'] = int(counts[k])
        meta['ignored_share'] = float(counts[k] / max(counts.sum(), 1))
        metas.append(meta)
        preview = st['preview']
        if rank != 0:
            continue
        if preview:
            width = max(p.shape[1] for p in preview)
            preview = [np.pad(p, ((0, 0), (0, width - p.shape[1]), (0, 0)))
                       for p in preview]
            cv2.imwrite(osp.join(st['out_dir'], 'preview.png'),
                        np.concatenate(preview, axis=0))
        with open(osp.join(st['out_dir'], 'meta.json'), 'w') as fh:
            json.dump(meta, fh, indent=1)
    dist.barrier()
    return metas
