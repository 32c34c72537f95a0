# Copyright (c) cp2-mmseg contributors. All rights reserved.
import copy
import math
from typing import List, Optional, Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform, Compose
from mmcv.transforms.utils import cache_randomness
from mmseg.registry import TRANSFORMS

#: MoCo v2 "aug+" (as mmpretrain's ``imagenet_bs32_mocov2.py``), 224 crops.
MOCO_V2_VIEW = [
    dict(
        type='RandomResizedCrop',
        scale=224,
        crop_ratio_range=(0.2, 1.),
        backend='pillow'),
    dict(
        type='RandomApply',
        transforms=[
            dict(
                type='ColorJitter',
                brightness=0.4,
                contrast=0.4,
                saturation=0.4,
                hue=0.1)
        ],
        prob=0.8),
    dict(
        type='RandomGrayscale',
        prob=0.2,
        keep_channels=True,
        channel_weights=(0.114, 0.587, 0.2989)),
    dict(
        type='GaussianBlur',
        magnitude_range=(0.1, 2.0),
        magnitude_std='inf',
        prob=0.5),
    dict(type='RandomFlip', prob=0.5),
]


@TRANSFORMS.register_module()
class CopyPaste(BaseTransform):
    """CP2's copy-paste composition (Wang et al., ECCV 2022).

    From one foreground image and two background images it makes a query
    and a key composite. Each composite is a background view with a random
    rectangle (``area_range`` of the canvas, aspect ``aspect_range``, the
    rule of torchvision's ``RandomErasing`` that the official code used)
    showing the pixels of a foreground view at the same coordinates. The two
    foreground views, the two background views and the two rectangles are
    all independent; the rectangles are carried as masks (never detected
    from zeros).

    Required Keys:

    - img: the foreground image
    - mix_results: two dicts with ``img`` (backgrounds, see
      :class:`CopyPasteDataset`)

    Modified Keys:

    - img: ``[query, key]`` composites (H, W, 3) uint8

    Added Keys:

    - paste_masks: ``[mask_q, mask_k]`` (H, W) uint8, 1 on pasted pixels
    - paste_boxes: ``[(top, left, h, w), ...]`` of the rectangles
    - fg_views: ``[view_q, view_k]``, the augmented foreground views

    Args:
        view_pipeline (list[dict], optional): The per-view augmentation,
            built in the mmpretrain scope. Defaults to MoCo v2's at 224.
        area_range (tuple): Rectangle area / canvas area. Defaults to
            (0.5, 0.8).
        aspect_range (tuple): Rectangle h / w (log-uniform). Defaults to
            (0.8, 1.25).
        max_attempts (int): Rejection-sampling attempts before the
            fallback rectangle. Defaults to 10.
    """

    def __init__(self,
                 view_pipeline: Optional[Sequence[dict]] = None,
                 area_range: Tuple[float, float] = (0.5, 0.8),
                 aspect_range: Tuple[float, float] = (0.8, 1.25),
                 max_attempts: int = 10) -> None:
        if not 0 < area_range[0] <= area_range[1] < 1:
            raise ValueError(f'area_range must be in (0, 1), got '
                             f'{area_range}')
        if not 0 < aspect_range[0] <= aspect_range[1]:
            raise ValueError(f'bad aspect_range {aspect_range}')
        view_pipeline = copy.deepcopy(
            list(view_pipeline) if view_pipeline is not None else
            MOCO_V2_VIEW)
        for t in view_pipeline:
            if isinstance(t, dict) and '.' not in t['type']:
                t.setdefault('_scope_', 'mmpretrain')
        self.view_cfg = view_pipeline
        self.view_pipeline = Compose(view_pipeline)
        self.area_range = area_range
        self.aspect_range = aspect_range
        self.max_attempts = max_attempts

    def _view(self, img: np.ndarray) -> np.ndarray:
        out = self.view_pipeline(dict(img=img, img_shape=img.shape[:2],
                                      ori_shape=img.shape[:2]))
        return out['img']

    @cache_randomness
    def sample_box(self, height: int, width: int) -> Tuple[int, int, int,
                                                           int]:
        """A rectangle (top, left, h, w) inside a ``height x width`` canvas.

        Args:
            height (int): Canvas height.
            width (int): Canvas width.

        Returns:
            tuple[int, int, int, int]: top, left, h, w (never empty).
        """
        area = height * width
        log_ratio = (math.log(self.aspect_range[0]),
                     math.log(self.aspect_range[1]))
        for _ in range(self.max_attempts):
            target = area * np.random.uniform(*self.area_range)
            aspect = math.exp(np.random.uniform(*log_ratio))
            h = int(round(math.sqrt(target * aspect)))
            w = int(round(math.sqrt(target / aspect)))
            if 0 < h < height and 0 < w < width:
                top = np.random.randint(0, height - h + 1)
                left = np.random.randint(0, width - w + 1)
                return top, left, h, w
        # fallback (tiny canvases): the mid-range area, square-ish, clipped
        side = math.sqrt(area * sum(self.area_range) / 2)
        h = max(1, min(height - 1, int(round(side))))
        w = max(1, min(width - 1, int(round(side))))
        return (np.random.randint(0, height - h + 1),
                np.random.randint(0, width - w + 1), h, w)

    def transform(self, results: dict) -> dict:
        """Compose the query and key images.

        Args:
            results (dict): Needs ``img`` and two ``mix_results``.

        Returns:
            dict: With the composites, masks and boxes.
        """
        mix = results.get('mix_results')
        if not mix or len(mix) < 2:
            raise KeyError('CopyPaste needs results["mix_results"] with two '
                           'background images: wrap the data set in '
                           'CopyPasteDataset')
        fg = results['img']
        composites, masks, boxes, fg_views = [], [], [], []
        for bg_results in mix[:2]:
            fg_view = self._view(fg)
            bg_view = self._view(bg_results['img'])
            if fg_view.shape != bg_view.shape:
                raise ValueError(
                    f'CopyPaste: the view pipeline must give one output '
                    f'size, got {fg_view.shape} and {bg_view.shape}')
            height, width = fg_view.shape[:2]
            top, left, h, w = self.sample_box(height, width)
            mask = np.zeros((height, width), np.uint8)
            mask[top:top + h, left:left + w] = 1
            comp = bg_view.copy()
            comp[top:top + h, left:left + w] = fg_view[top:top + h,
                                                       left:left + w]
            composites.append(comp)
            masks.append(mask)
            boxes.append((top, left, h, w))
            fg_views.append(fg_view)
        results['img'] = composites
        results['paste_masks'] = masks
        results['paste_boxes'] = boxes
        results['fg_views'] = fg_views
        results['img_shape'] = composites[0].shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(area_range={self.area_range}, '
                f'aspect_range={self.aspect_range}, '
                f'view_pipeline={self.view_cfg})')
