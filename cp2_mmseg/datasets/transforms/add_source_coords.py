# Copyright (c) cp2-mmseg contributors. All rights reserved.
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class AddSourceCoords(BaseTransform):
    """Record each pixel's coordinates in the loaded image.

    Adds ``gt_src_coord``, an (H, W, 2) float32 map of ``(y, x)`` of every
    pixel in the image as loaded, and registers it in ``seg_fields`` so the
    geometric transforms move it with the image: mmseg's ``Resize`` (also
    inside mmcv's ``RandomResize``, which builds mmseg's ``Resize`` in the
    mmseg scope) resizes every seg field with nearest interpolation, mmseg's
    ``RandomCrop`` crops them and mmseg's ``RandomFlip`` flips them (all
    checked by ``tests/test_datasets/test_transforms/test_two_views.py``).
    Nearest resizing copies values, so after any chain of these the map
    still holds exact source coordinates. Put it after
    ``LoadImageFromFile`` and before any geometric transform; the data
    preprocessor pads it with -1 (no source pixel).

    Transforms that fill new pixels with a seg pad value (e.g. mmseg's
    ``RandomRotate`` fills 255) would write 255 as a coordinate; they are
    not supported in an auxiliary-contrast pipeline.

    Required Keys:

    - img

    Added Keys:

    - gt_src_coord (np.float32, H x W x 2)
    - seg_fields (``'gt_src_coord'`` appended)
    """

    def transform(self, results: dict) -> dict:
        """Add the coordinate map.

        Args:
            results (dict): With ``img``.

        Returns:
            dict: With ``gt_src_coord``.
        """
        h, w = results['img'].shape[:2]
        ys, xs = np.meshgrid(
            np.arange(h, dtype=np.float32),
            np.arange(w, dtype=np.float32),
            indexing='ij')
        results['gt_src_coord'] = np.stack([ys, xs], axis=2)
        fields = results.setdefault('seg_fields', [])
        if 'gt_src_coord' not in fields:
            fields.append('gt_src_coord')
        return results
