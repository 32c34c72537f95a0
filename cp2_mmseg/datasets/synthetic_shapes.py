# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""A small deterministic synthetic segmentation set (no download needed).

Each image is a smooth random texture with discs, squares and triangles
pasted on it; the label map holds the shape class of every pixel. By
default colours overlap between classes, so the model has to use shape as
well as colour. With ``class_colours=True`` (what ``make demo`` writes)
the background texture is grey and each shape class has its own colour
family (jittered): a set a small model learns in a couple of CPU minutes.
It exists for the demo and for tests: it is *not* a benchmark, and a real
data set is needed for meaningful numbers.
"""
import os
import os.path as osp
from typing import Dict, Tuple

import cv2
import numpy as np

SYNTHETIC_CLASSES = ('background', 'disc', 'square', 'triangle')
SYNTHETIC_PALETTE = [[0, 0, 0], [220, 20, 60], [0, 128, 255], [255, 200, 0]]


#: BGR centre of each shape class's colour family (``class_colours``)
CLASS_COLOURS = np.array([[0, 0, 0], [60, 40, 200], [200, 120, 30],
                          [40, 190, 220]], np.float32)


def _texture(rng: np.random.Generator, size: int,
             grey: bool = False) -> np.ndarray:
    low = rng.uniform(0, 255, (4, 4, 1 if grey else 3)).astype(np.float32)
    if grey:
        low = np.repeat(low, 3, axis=2)
    tex = cv2.resize(low, (size, size), interpolation=cv2.INTER_CUBIC)
    tex += rng.normal(0, 12, tex.shape).astype(np.float32)
    return tex


def make_synthetic_image(rng: np.random.Generator,
                         size: int = 64,
                         max_shapes: int = 4,
                         class_colours: bool = False
                         ) -> Tuple[np.ndarray, np.ndarray]:
    """Draw one image and its label map.

    Args:
        rng (np.random.Generator): The random source.
        size (int): Side of the square image. Defaults to 64.
        max_shapes (int): At most this many shapes. Defaults to 4.
        class_colours (bool): Grey background texture and one colour
            family per class (:data:`CLASS_COLOURS` +- 40 per channel)
            instead of any colour. Defaults to False.

    Returns:
        tuple[np.ndarray, np.ndarray]: BGR uint8 image (size, size, 3) and
        uint8 labels (size, size) in ``0..3``.
    """
    img = _texture(rng, size, grey=class_colours)
    label = np.zeros((size, size), np.uint8)
    for _ in range(int(rng.integers(1, max_shapes + 1))):
        cls = int(rng.integers(1, len(SYNTHETIC_CLASSES)))
        mask = np.zeros((size, size), np.uint8)
        r = int(rng.integers(size // 10, size // 4))
        cx, cy = (int(v) for v in rng.integers(r, size - r, 2))
        if cls == 1:
            cv2.circle(mask, (cx, cy), r, 1, -1)
        elif cls == 2:
            cv2.rectangle(mask, (cx - r, cy - r), (cx + r, cy + r), 1, -1)
        else:
            pts = np.array([[cx, cy - r], [cx - r, cy + r], [cx + r, cy + r]],
                           np.int32)
            cv2.fillPoly(mask, [pts], 1)
        colour = rng.uniform(0, 255, 3).astype(np.float32)
        if class_colours:
            colour = np.clip(CLASS_COLOURS[cls] + (colour - 127.5) * 0.32,
                             0, 255)
        sel = mask.astype(bool)
        img[sel] = 0.3 * img[sel] + 0.7 * colour
        label[sel] = cls
    img = np.clip(img + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)
    return img, label


def make_synthetic_dataset(root: str,
                           num_train: int = 200,
                           num_val: int = 50,
                           size: int = 64,
                           seed: int = 0,
                           class_colours: bool = False) -> Dict[str, int]:
    """Write ``root/img_dir/{train,val}`` and ``root/ann_dir/{train,val}``.

    The same arguments always give the same files.

    Args:
        root (str): Output folder (created).
        num_train (int): Training images. Defaults to 200.
        num_val (int): Validation images. Defaults to 50.
        size (int): Image side. Defaults to 64.
        seed (int): Random seed. Defaults to 0.
        class_colours (bool): See :func:`make_synthetic_image`.

    Returns:
        dict: Number of images written per split.
    """
    rng = np.random.default_rng(seed)
    counts = {}
    for split, num in (('train', num_train), ('val', num_val)):
        img_dir = osp.join(root, 'img_dir', split)
        ann_dir = osp.join(root, 'ann_dir', split)
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(ann_dir, exist_ok=True)
        for i in range(num):
            img, label = make_synthetic_image(rng, size,
                                              class_colours=class_colours)
            cv2.imwrite(osp.join(img_dir, f'{i:05d}.png'), img)
            cv2.imwrite(osp.join(ann_dir, f'{i:05d}.png'), label)
        counts[split] = num
    return counts
