# Copyright (c) cp2-mmseg contributors. All rights reserved.
import numpy as np
import torch
from mmengine.structures import PixelData
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackAuxSegInputs(PackSegInputs):
    """``PackSegInputs`` that also packs the auxiliary label and coordinates.

    Unlabelled images work: ``gt_sem_seg`` is packed only when the pipeline
    loaded annotations.

    Added fields of the data sample:

    - gt_aux_label (:obj:`PixelData`): (1, H, W) int64, from
      ``gt_aux_label`` (:class:`LoadAuxLabel`).
    - gt_src_coord (:obj:`PixelData`): (2, H, W) float32 ``(y, x)`` of each
      pixel in the loaded image, from :class:`AddSourceCoords`.

    Args:
        meta_keys (tuple[str]): As ``PackSegInputs``; ``aux_label_path`` is
            added to the stock keys.
    """

    def __init__(self,
                 meta_keys=('img_path', 'seg_map_path', 'aux_label_path',
                            'ori_shape', 'img_shape', 'pad_shape',
                            'scale_factor', 'flip', 'flip_direction',
                            'reduce_zero_label')) -> None:
        super().__init__(meta_keys=meta_keys)

    def transform(self, results: dict) -> dict:
        """Pack the image, the sample and its auxiliary fields.

        Args:
            results (dict): Transformed results.

        Returns:
            dict: ``inputs`` (3, H, W) and ``data_samples``.
        """
        packed = super().transform(results)
        sample = packed['data_samples']
        if 'gt_aux_label' in results:
            aux = np.ascontiguousarray(results['gt_aux_label'])
            sample.gt_aux_label = PixelData(
                data=torch.from_numpy(aux.astype(np.int64))[None])
        if 'gt_src_coord' in results:
            coord = np.ascontiguousarray(
                results['gt_src_coord'].transpose(2, 0, 1))
            sample.gt_src_coord = PixelData(
                data=torch.from_numpy(coord.astype(np.float32)))
        return packed
