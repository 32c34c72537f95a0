# Copyright (c) cp2-mmseg contributors. All rights reserved.
import copy
from typing import List

from mmcv.transforms import BaseTransform, Compose
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class TwoViews(BaseTransform):
    """Two independent augmentations of one loaded image.

    Runs ``view_pipeline`` twice on copies of the loaded results (image,
    labels, auxiliary label, source coordinates). The pipeline must end with
    a packing step (e.g. :class:`PackAuxSegInputs`); the output is
    ``inputs = [view1, view2]`` and ``data_samples = [sample1, sample2]``,
    which :class:`AuxViewDataPreProcessor` flattens into a batch of 2B
    (all first views, then all second views). Add
    :class:`AddSourceCoords` before this step so that each view knows where
    its pixels come from.

    Args:
        view_pipeline (list[dict]): Transforms of one view.
    """

    def __init__(self, view_pipeline: List[dict]) -> None:
        self.view_pipeline = Compose(view_pipeline)

    def transform(self, results: dict) -> dict:
        """Make both views.

        Args:
            results (dict): The loaded image and its maps.

        Returns:
            dict: ``inputs`` and ``data_samples``, lists of two.
        """
        views = []
        for _ in range(2):
            out = self.view_pipeline(copy.deepcopy(results))
            if out is None:
                raise RuntimeError(
                    f'TwoViews: the view pipeline dropped '
                    f'{results.get("img_path")}')
            if 'inputs' not in out or 'data_samples' not in out:
                raise KeyError(
                    'TwoViews: view_pipeline must end with a packing step '
                    '(PackAuxSegInputs) that returns inputs and data_samples')
            views.append(out)
        return dict(
            inputs=[v['inputs'] for v in views],
            data_samples=[v['data_samples'] for v in views])

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(view_pipeline={self.view_pipeline})'
