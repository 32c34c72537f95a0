# Copyright (c) cp2-mmseg contributors. All rights reserved.
import os.path as osp
from typing import Optional

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadAuxLabel(BaseTransform):
    """Load an image's auxiliary label map (Zhang et al., NeurIPS 2021).

    The map is ``aux_root/<stem>.png`` where ``<stem>`` is the image file
    name without ``img_suffix`` (as ``tools/generate_aux_labels.py`` writes
    them): one PNG per image, cluster ids ``0 .. num_aux - 1`` and
    ``ignore_index`` for outliers.

    Required Keys:

    - img_path

    Added Keys:

    - gt_aux_label (np.uint8 / np.uint16, H x W)
    - aux_label_path
    - seg_fields (``'gt_aux_label'`` appended, so mmseg's ``Resize``,
      ``RandomCrop`` and ``RandomFlip`` move it with the image)

    Args:
        aux_root (str): Folder of the auxiliary label PNGs.
        num_aux (int, optional): Number of auxiliary labels K; when given,
            every other value than ``ignore_index`` is an error naming the
            file.
        img_suffix (str, optional): Suffix stripped from the image file
            name (e.g. ``'_leftImg8bit.png'``); default: its extension.
        ignore_index (int): Outliers. Defaults to 255.
    """

    def __init__(self,
                 aux_root: str,
                 num_aux: Optional[int] = None,
                 img_suffix: Optional[str] = None,
                 ignore_index: int = 255) -> None:
        self.aux_root = aux_root
        self.num_aux = num_aux
        self.img_suffix = img_suffix
        self.ignore_index = ignore_index

    def aux_path(self, img_path: str) -> str:
        """The auxiliary label file of an image."""
        name = osp.basename(img_path)
        if self.img_suffix and name.endswith(self.img_suffix):
            stem = name[:-len(self.img_suffix)]
        else:
            stem = osp.splitext(name)[0]
        return osp.join(self.aux_root, stem + '.png')

    def transform(self, results: dict) -> dict:
        """Read and check the map.

        Args:
            results (dict): With ``img_path``.

        Returns:
            dict: With ``gt_aux_label`` and ``aux_label_path``.
        """
        path = self.aux_path(results['img_path'])
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'LoadAuxLabel: no auxiliary label {path} for image '
                f'{results["img_path"]} (generate them with '
                'tools/generate_aux_labels.py, or check aux_root / '
                'img_suffix)')
        aux = mmcv.imread(path, flag='unchanged', backend='pillow')
        if aux.ndim != 2:
            raise ValueError(f'LoadAuxLabel: {path} must be a one-channel '
                             f'label map, got shape {aux.shape}')
        if self.num_aux is not None:
            values = np.unique(aux)
            bad = values[(values >= self.num_aux)
                         & (values != self.ignore_index)]
            if bad.size:
                raise ValueError(
                    f'LoadAuxLabel: {path}: value(s) {bad.tolist()} are '
                    f'neither auxiliary labels 0..{self.num_aux - 1} nor '
                    f'the ignore index {self.ignore_index}')
        img = results.get('img')
        if img is not None and aux.shape != tuple(img.shape[:2]):
            raise ValueError(
                f'LoadAuxLabel: {path} has shape {aux.shape}, its image '
                f'{results["img_path"]} {results["img"].shape[:2]}')
        results['gt_aux_label'] = aux
        results['aux_label_path'] = path
        fields = results.setdefault('seg_fields', [])
        if 'gt_aux_label' not in fields:
            fields.append('gt_aux_label')
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(aux_root={self.aux_root!r}, '
                f'num_aux={self.num_aux}, ignore_index={self.ignore_index})')
