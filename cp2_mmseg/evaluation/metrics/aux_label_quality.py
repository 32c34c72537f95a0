# Copyright (c) cp2-mmseg contributors. All rights reserved.
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmseg.registry import METRICS

from ...aux_labels.quality import aux_label_scores, contingency


@METRICS.register_module()
class AuxLabelQualityMetric(BaseMetric):
    """How well auxiliary labels pick positives and negatives, against the
    ground truth (our pair-based scores, see
    :func:`cp2_mmseg.aux_labels.aux_label_scores`).

    Each data sample carries ``gt_sem_seg`` and ``gt_aux_label`` (dicts with
    ``data`` of shape (1, H, W) or (H, W), as ``SegDataSample.to_dict()``
    gives, or the arrays themselves). Per image it keeps a K x C table and
    the squared counts the cross-image scores need, so collecting results
    over processes is mmengine's usual ``collect_results``.

    Args:
        num_aux (int): Number of auxiliary labels K.
        stride (int): Count every ``stride``-th pixel in both directions
            (the loss resolution: 8 for stride-8 embeddings). Defaults to 1.
        aux_ignore (int): Outlier label. Defaults to 255.
        ignore_index (int): Void class. Defaults to 255.
        num_classes (int, optional): C; default: the data set's classes.
        collect_device (str): Defaults to 'cpu'.
        prefix (str, optional): Metric name prefix. Defaults to 'aux'.
    """

    def __init__(self,
                 num_aux: int,
                 stride: int = 1,
                 aux_ignore: int = 255,
                 ignore_index: int = 255,
                 num_classes: Optional[int] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = 'aux') -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if num_aux < 1 or stride < 1:
            raise ValueError(f'num_aux and stride must be >= 1, got '
                             f'{num_aux}, {stride}')
        self.num_aux = num_aux
        self.stride = stride
        self.aux_ignore = aux_ignore
        self.ignore_index = ignore_index
        self._num_classes = num_classes

    @property
    def num_classes(self) -> int:
        if self._num_classes is not None:
            return self._num_classes
        if not self.dataset_meta or 'classes' not in self.dataset_meta:
            raise ValueError('AuxLabelQualityMetric needs num_classes or a '
                             "dataset_meta with 'classes'")
        return len(self.dataset_meta['classes'])

    @staticmethod
    def _map(x) -> torch.Tensor:
        if isinstance(x, dict):
            x = x['data']
        x = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x)
        return x.reshape(x.shape[-2:])

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Tables of a batch of samples.

        Args:
            data_batch: Unused.
            data_samples (Sequence[dict]): With ``gt_sem_seg`` and
                ``gt_aux_label``.
        """
        for sample in data_samples:
            gt = self._map(sample['gt_sem_seg'])
            aux = self._map(sample['gt_aux_label'])
            if gt.shape != aux.shape:
                raise ValueError(
                    f'AuxLabelQualityMetric: auxiliary label '
                    f'{tuple(aux.shape)} and ground truth {tuple(gt.shape)} '
                    f'differ in size ({sample.get("aux_label_path", "")})')
            gt = gt[::self.stride, ::self.stride]
            aux = aux[::self.stride, ::self.stride]
            table = contingency(aux, gt, self.num_aux, self.num_classes,
                                self.aux_ignore, self.ignore_index).numpy()
            valid = int((gt != self.ignore_index).sum())
            self.results.append((table, valid))

    def compute_metrics(self, results: List) -> Dict[str, float]:
        """All scores of :func:`aux_label_scores` over the collected images.

        Args:
            results (list): (table, valid pixels) per image.

        Returns:
            dict[str, float]: The scores.
        """
        tables = np.stack([t for t, _ in results]).astype(np.float64)
        table = tables.sum(0)
        scores = aux_label_scores(
            table,
            sq_table=(tables**2).sum(0),
            sq_aux=(tables.sum(2)**2).sum(0),
            sq_gt=(tables.sum(1)**2).sum(0),
            sq_total=float((tables.sum((1, 2))**2).sum()),
            num_valid=sum(v for _, v in results))
        print_log(
            'aux labels: ' + ', '.join(f'{k} {v:.4f}'
                                       for k, v in scores.items()),
            logger='current')
        return scores
