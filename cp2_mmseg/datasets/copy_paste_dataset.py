# Copyright (c) cp2-mmseg contributors. All rights reserved.
import copy
from typing import List, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset, Compose
from mmseg.registry import DATASETS


@DATASETS.register_module()
class CopyPasteDataset:
    """Gives every image two background partners for CP2 (copy-paste).

    Item ``i`` is image ``i`` (the foreground) with ``mix_results``: two
    other images of the data set, each drawn uniformly from all images but
    ``i`` (independently, like the official code's two extra samplers), then
    ``pipeline`` (``CopyPaste`` and ``PackCopyPasteInputs``) runs on it.
    Works with any data set whose pipeline loads ``img``: an unlabelled
    folder (``mmpretrain.CustomDataset``), ``mmpretrain.ImageNet``, or a
    segmentation data set (its labels are not used).

    Args:
        dataset (dict | BaseDataset): The image data set; its own pipeline
            should only load the image (``LoadImageFromFile``).
        pipeline (list[dict]): Transforms applied to the foreground with
            its partners.
        num_backgrounds (int): Partners per item. Defaults to 2.
    """

    def __init__(self,
                 dataset: Union[dict, BaseDataset],
                 pipeline: Sequence[dict],
                 num_backgrounds: int = 2) -> None:
        if isinstance(dataset, dict):
            dataset = DATASETS.build(dataset)
        self.dataset = dataset
        self.pipeline = Compose(pipeline)
        self.num_backgrounds = num_backgrounds
        if len(self.dataset) < 2:
            raise ValueError(
                f'CopyPasteDataset needs at least 2 images to draw '
                f'backgrounds from, the data set has {len(self.dataset)}')

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self.dataset.metainfo)

    def __len__(self) -> int:
        return len(self.dataset)

    def background_indices(self, idx: int) -> List[int]:
        """Uniform over all indices except ``idx``."""
        n = len(self.dataset)
        draws = np.random.randint(0, n - 1, size=self.num_backgrounds)
        return [int(j + (j >= idx)) for j in draws]

    def __getitem__(self, idx: int) -> dict:
        results = copy.deepcopy(self.dataset[idx])
        results.setdefault('sample_idx', idx)
        bg_indices = self.background_indices(idx)
        results['mix_results'] = [
            copy.deepcopy(self.dataset[j]) for j in bg_indices
        ]
        results['bg_indices'] = bg_indices
        return self.pipeline(results)
