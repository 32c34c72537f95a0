# Copyright (c) cp2-mmseg contributors. All rights reserved.
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from .dist_utils import all_gather_cat
from .grouped_sampling import rank_within_groups


@MODELS.register_module()
class CrossImageMemoryBank(nn.Module):
    """Class-wise pixel and region queues (Wang et al., ICCV 2021).

    * pixel queue (C, ``pixel_size``, D): from every image of every batch,
      ``pixels_per_image`` random embeddings of each class present;
    * region queue (C, ``region_size``, D): the L2-normalised mean
      embedding of each class in each image.

    Both are class-wise FIFOs. Unlike the official code, the pointer of a
    class advances by the number of entries written (not by 1), a write of
    more entries than the queue holds keeps the newest ones, every real
    class is stored (class 0 too, only ``ignore_index`` is skipped), empty
    slots are never read (``*_filled`` counts), and the new entries are
    all-gathered across processes before the write, so every rank holds the
    same memory. All state lives in buffers: checkpoints save it and
    ``--resume`` restores it.

    The paper's sizes are ``pixel_size = 10 N`` and ``region_size = N`` for
    N training images (Cityscapes: 29750 / 2975); the official code used
    5000 / 5000.

    Args:
        num_classes (int): Number of classes C.
        feat_dim (int): Embedding size D. Defaults to 256.
        pixel_size (int): Pixel slots per class. Defaults to 5000.
        region_size (int): Region slots per class; 0 disables the region
            memory. Defaults to 5000.
        pixels_per_image (int): V, pixels stored per (image, class).
            Defaults to 10.
        ignore_index (int): Label that is never stored. Defaults to 255.
        dtype (str): Storage dtype, 'float32' or 'float16' / 'bfloat16' to
            halve the memory of paper-size banks. Defaults to 'float32'.
    """

    def __init__(self,
                 num_classes: int,
                 feat_dim: int = 256,
                 pixel_size: int = 5000,
                 region_size: int = 5000,
                 pixels_per_image: int = 10,
                 ignore_index: int = 255,
                 dtype: str = 'float32') -> None:
        super().__init__()
        if pixel_size <= 0 and region_size <= 0:
            raise ValueError('CrossImageMemoryBank: pixel_size and '
                             'region_size cannot both be 0')
        self.num_classes = num_classes
        self.feat_dim = feat_dim
        self.pixel_size = pixel_size
        self.region_size = region_size
        self.pixels_per_image = pixels_per_image
        self.ignore_index = ignore_index
        store = getattr(torch, dtype)
        for name, size in (('pixel', pixel_size), ('region', region_size)):
            self.register_buffer(f'{name}_queue',
                                 torch.zeros(num_classes, size, feat_dim,
                                             dtype=store))
            self.register_buffer(f'{name}_ptr',
                                 torch.zeros(num_classes, dtype=torch.long))
            self.register_buffer(f'{name}_filled',
                                 torch.zeros(num_classes, dtype=torch.long))

    @torch.no_grad()
    def contrast_set(self) -> Tuple[Tensor, Tensor]:
        """A snapshot of the memory as one class-major tensor and its
        filled-slot mask.

        The result never aliases the queues: the loss keeps it for backward
        while :meth:`update` overwrites the queues in the same forward (a
        pixel-only or region-only memory returned the live buffer, and
        backward failed with "modified by an inplace operation").

        Returns:
            tuple[Tensor, Tensor]: entries (C, T, D) with
            ``T = pixel_size + region_size``, and valid (C, T) bool.
        """
        parts, masks = [], []
        for name, size in (('pixel', self.pixel_size),
                           ('region', self.region_size)):
            if size == 0:
                continue
            parts.append(getattr(self, f'{name}_queue'))
            slots = torch.arange(size, device=parts[-1].device)
            masks.append(slots[None] < getattr(self, f'{name}_filled')[:, None])
        if len(parts) == 1:
            return parts[0].clone(), masks[0]
        return torch.cat(parts, 1), torch.cat(masks, 1)

    @torch.no_grad()
    def _enqueue(self, name: str, entries: Tensor, labels: Tensor) -> None:
        """Class-wise FIFO write of ``entries`` with classes ``labels``."""
        queue = getattr(self, f'{name}_queue')
        ptr = getattr(self, f'{name}_ptr')
        filled = getattr(self, f'{name}_filled')
        size = queue.shape[1]
        if size == 0 or labels.numel() == 0:
            return
        # stable sort by class keeps arrival order within a class
        order = torch.argsort(labels, stable=True)
        labels, entries = labels[order], entries[order]
        counts = torch.bincount(labels, minlength=self.num_classes)
        starts = torch.cumsum(counts, 0) - counts
        rank = torch.arange(labels.numel(), device=labels.device) - starts[
            labels]
        # more entries than slots: the newest `size` ones win
        keep = rank >= counts[labels] - size
        slot = (ptr[labels] + rank) % size
        queue[labels[keep], slot[keep]] = entries[keep].to(queue.dtype)
        ptr.copy_((ptr + counts) % size)
        filled.copy_(torch.clamp(filled + counts, max=size))

    @torch.no_grad()
    def update(self, embed: Tensor, labels: Tensor) -> None:
        """Store pixels and regions of a batch (all ranks' entries).

        Args:
            embed (Tensor): (B, D, h, w) embeddings (normalised or not; the
                stored entries are L2-normalised).
            labels (Tensor): (B, h, w) labels at the embedding resolution.
        """
        bsz, dim = embed.shape[:2]
        if dim != self.feat_dim:
            raise ValueError(f'CrossImageMemoryBank: feat_dim is '
                             f'{self.feat_dim}, got embeddings of {dim}')
        flat = embed.permute(0, 2, 3, 1).reshape(-1, dim).float()
        lbl = labels.reshape(-1)
        pix = (lbl != self.ignore_index).nonzero(as_tuple=True)[0]
        cls = lbl[pix]
        num_pix = lbl.numel() // bsz
        pair = (pix // num_pix) * self.num_classes + cls
        num_pairs = bsz * self.num_classes
        pixel_entries = region_entries = flat.new_zeros((0, dim))
        pixel_labels = region_labels = lbl.new_zeros((0, ))
        if self.pixel_size > 0 and pix.numel():
            order, rank = rank_within_groups(pair, num_pairs)
            sel = order[rank < self.pixels_per_image]
            pixel_entries = F.normalize(flat[pix[sel]], dim=1)
            pixel_labels = cls[sel]
        if self.region_size > 0 and pix.numel():
            sums = flat.new_zeros((num_pairs, dim)).index_add_(
                0, pair, flat[pix])
            present = torch.bincount(pair, minlength=num_pairs) > 0
            region_entries = F.normalize(sums[present], dim=1)
            region_labels = present.nonzero(as_tuple=True)[0] % \
                self.num_classes
        # identical memory on every rank: write everybody's entries
        pixel_entries = all_gather_cat(pixel_entries)
        pixel_labels = all_gather_cat(pixel_labels)
        region_entries = all_gather_cat(region_entries)
        region_labels = all_gather_cat(region_labels)
        self._enqueue('pixel', pixel_entries, pixel_labels)
        self._enqueue('region', region_entries, region_labels)

    def extra_repr(self) -> str:
        return (f'num_classes={self.num_classes}, feat_dim={self.feat_dim}, '
                f'pixel_size={self.pixel_size}, region_size='
                f'{self.region_size}, pixels_per_image='
                f'{self.pixels_per_image}')
