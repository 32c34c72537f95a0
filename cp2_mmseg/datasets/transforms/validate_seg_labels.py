# Copyright (c) cp2-mmseg contributors. All rights reserved.
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class ValidateSegLabels(BaseTransform):
    """Fail loudly on a label map value that is neither a class nor ignored.

    Put it right after ``LoadAnnotations``. Out-of-range values otherwise
    surface much later as an opaque indexing error in the loss (or a device
    assert on GPU), without the file that holds them.

    Required Keys:

    - gt_seg_map
    - seg_map_path (used in the message)

    Args:
        num_classes (int): Valid labels are ``0 .. num_classes - 1``.
        ignore_index (int): The one other value allowed. Defaults to 255.
    """

    def __init__(self, num_classes: int, ignore_index: int = 255) -> None:
        if num_classes <= 0:
            raise ValueError(f'num_classes must be > 0, got {num_classes}')
        self.num_classes = num_classes
        self.ignore_index = ignore_index

    def transform(self, results: dict) -> dict:
        """Check ``results['gt_seg_map']``.

        Args:
            results (dict): The result dict from ``LoadAnnotations``.

        Returns:
            dict: ``results``, unchanged.
        """
        seg = results['gt_seg_map']
        values = np.unique(seg)
        bad = values[((values < 0) | (values >= self.num_classes))
                     & (values != self.ignore_index)]
        if bad.size:
            label_map = results.get('label_map')
            raise ValueError(
                f'{results.get("seg_map_path", "<in-memory label map>")}: '
                f'label value(s) {bad.tolist()} are neither classes '
                f'0..{self.num_classes - 1} nor the ignore index '
                f'{self.ignore_index}'
                + (f' (after label_map {label_map})' if label_map else ''))
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_classes={self.num_classes}, '
                f'ignore_index={self.ignore_index})')
