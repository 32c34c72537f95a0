# Copyright (c) cp2-mmseg contributors. All rights reserved.
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

#: Raw value of the void (unlabelled) pixels in the SegNet CamVid release.
CAMVID_VOID = 11


@DATASETS.register_module()
class CamVidDataset(BaseSegDataset):
    """CamVid, 11 classes, in the SegNet release layout.

    The layout is read as it is distributed::

        data_root/
            train/  trainannot/  val/  valannot/  test/  testannot/
            splits/{train,val,test}.txt   (optional, one file stem a line)

    Images and annotations are PNGs with the same file names. Annotations
    hold the class indices 0..10 and the void value 11, which is mapped to
    ``ignore_index`` 255 here, through ``label_map`` (applied by the stock
    ``LoadAnnotations``), and nowhere else.

    Args:
        img_suffix (str): Suffix of the images. Defaults to '.png'.
        seg_map_suffix (str): Suffix of the annotations. Defaults to '.png'.
        reduce_zero_label (bool): Must stay False: 0 is a real class (Sky).
        **kwargs: Passed to :class:`mmseg.datasets.BaseSegDataset`.
    """
    METAINFO = dict(
        classes=('Sky', 'Building', 'Pole', 'Road', 'Pavement', 'Tree',
                 'SignSymbol', 'Fence', 'Car', 'Pedestrian', 'Bicyclist'),
        palette=[[128, 128, 128], [128, 0, 0], [192, 192, 128],
                 [128, 64, 128], [0, 0, 192], [128, 128, 0],
                 [192, 128, 128], [64, 64, 128], [64, 0, 128],
                 [64, 64, 0], [0, 128, 192]])

    def __init__(self,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 reduce_zero_label: bool = False,
                 **kwargs) -> None:
        if reduce_zero_label:
            raise ValueError('CamVidDataset: reduce_zero_label must be False,'
                             ' class 0 (Sky) is a real class; void (11) is '
                             'mapped to the ignore index already')
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            **kwargs)

    @classmethod
    def get_label_map(cls,
                      new_classes: Optional[Sequence] = None
                      ) -> Optional[Dict[int, int]]:
        """The label map of :class:`BaseSegDataset` plus void 11 -> 255.

        Args:
            new_classes (Sequence, optional): Classes chosen in ``metainfo``.

        Returns:
            dict: ``{old_id: new_id}``, always mapping 11 to 255.
        """
        label_map = super().get_label_map(new_classes)
        label_map = dict(label_map) if label_map else {}
        label_map[CAMVID_VOID] = 255
        return label_map

    def load_data_list(self) -> List[dict]:
        """Check the data root, folders and split file, then list them.

        Returns:
            list[dict]: One dict per image.
        """
        img_dir = self.data_prefix.get('img_path', '')
        ann_dir = self.data_prefix.get('seg_map_path', '')
        for name, path in (('image folder', img_dir),
                           ('annotation folder', ann_dir)):
            if path and not osp.isdir(path):
                hint = ''
                if self.data_root and not osp.isdir(self.data_root):
                    hint = (f' (the data root {self.data_root!r} itself does '
                            'not exist: set data_root or link the SegNet '
                            'CamVid release there)')
                raise FileNotFoundError(
                    f'CamVidDataset: {name} {path!r} not found{hint}')
        if self.ann_file and not osp.isfile(self.ann_file):
            raise FileNotFoundError(
                f'CamVidDataset: split file {self.ann_file!r} not found')
        data_list = super().load_data_list()
        if not data_list:
            raise FileNotFoundError(
                f'CamVidDataset: no {self.img_suffix!r} images in {img_dir!r}')
        missing = [
            d['seg_map_path'] for d in data_list
            if not osp.isfile(d['seg_map_path'])
        ]
        if missing:
            raise FileNotFoundError(
                f'CamVidDataset: {len(missing)} annotation file(s) missing, '
                f'e.g. {missing[:3]}')
        return data_list
