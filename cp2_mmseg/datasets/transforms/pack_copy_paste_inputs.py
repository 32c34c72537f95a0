# Copyright (c) cp2-mmseg contributors. All rights reserved.
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import BaseDataElement
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackCopyPasteInputs(BaseTransform):
    """Pack CP2's two composites and their paste masks.

    ``PackSegInputs`` / mmpretrain's ``PackInputs`` would drop the masks.

    Required Keys:

    - img: ``[query, key]`` (H, W, 3) uint8
    - paste_masks: ``[mask_q, mask_k]`` (H, W)

    Returns ``inputs`` (list of two (3, H, W) uint8 tensors, for
    ``SelfSupDataPreprocessor``) and ``data_samples``, a
    :obj:`BaseDataElement` with ``paste_masks`` (2, H, W) bool and the
    ``sample_idx``, ``bg_indices``, ``img_path`` and ``paste_boxes`` meta.
    """

    META_KEYS = ('sample_idx', 'bg_indices', 'img_path', 'paste_boxes')

    def transform(self, results: dict) -> dict:
        imgs = [
            torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
            for img in results['img']
        ]
        masks = torch.from_numpy(np.stack(results['paste_masks'])).bool()
        sample = BaseDataElement(
            metainfo={k: results[k]
                      for k in self.META_KEYS if k in results})
        sample.paste_masks = masks
        return dict(inputs=imgs, data_samples=sample)
