# Copyright (c) cp2-mmseg contributors. All rights reserved.
from typing import Any, Dict

import torch.nn.functional as F
from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import MODELS


@MODELS.register_module()
class AuxViewDataPreProcessor(SegDataPreProcessor):
    """``SegDataPreProcessor`` for two-view batches with auxiliary labels.

    In training, each sample holds two views (:class:`TwoViews`);
    ``pseudo_collate`` (mmengine's default) turns a batch of them into
    ``inputs = [first views, second views]`` (and the same for the data
    samples), which this flattens view-major, so the batch of B samples becomes 2B images: rows
    ``0..B-1`` the first views, ``B..2B-1`` the second views, and each data
    sample gets ``view`` (0 / 1) and ``view_group`` (the sample's row in
    the batch) in its metainfo. Images and ``gt_sem_seg`` are normalised and
    padded as stock; ``gt_aux_label`` is padded with ``seg_pad_val`` and
    ``gt_src_coord`` with -1 (no source pixel). Single-view batches (testing,
    or a one-view pipeline) pass through unchanged apart from that padding.

    Args:
        **kwargs: The arguments of ``SegDataPreProcessor``.
    """

    def forward(self, data: dict, training: bool = False) -> Dict[str, Any]:
        """Flatten the views, then normalise and pad.

        Args:
            data (dict): ``inputs`` and ``data_samples`` from the loader.
            training (bool): Training mode.

        Returns:
            dict: ``inputs`` (2B or B, 3, H, W) and ``data_samples``.
        """
        inputs = data['inputs']
        samples = data.get('data_samples')
        if len(inputs) and isinstance(inputs[0], (list, tuple)):
            # pseudo_collate of TwoViews samples: [views 0 of the batch,
            # views 1 of the batch]
            if len(inputs) != 2 or samples is None or len(samples) != 2 or \
                    len({len(v) for v in inputs + samples}) != 1:
                raise ValueError(
                    'AuxViewDataPreProcessor: expected the collated output '
                    'of TwoViews (2 lists of B images and 2 lists of B data '
                    f'samples), got {len(inputs)} lists of images')
            flat_inputs, flat_samples = [], []
            for view in range(2):
                for row, (img, sample) in enumerate(
                        zip(inputs[view], samples[view])):
                    sample.set_metainfo(dict(view=view, view_group=row))
                    flat_inputs.append(img)
                    flat_samples.append(sample)
            data = dict(data, inputs=flat_inputs, data_samples=flat_samples)
        out = super().forward(data, training)
        for sample in out['data_samples'] or []:
            pad = sample.metainfo.get('padding_size')
            if pad is None or not any(pad):
                continue
            for key, value in (('gt_aux_label', self.seg_pad_val),
                               ('gt_src_coord', -1.)):
                if key in sample:
                    field = getattr(sample, key)
                    padded = F.pad(field.data, tuple(pad), value=value)
                    del field.data
                    field.data = padded
        return out
