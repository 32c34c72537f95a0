from .camvid import CamVidDataset
from .copy_paste_dataset import CopyPasteDataset
from .synthetic_shapes import (SYNTHETIC_CLASSES, SYNTHETIC_PALETTE,
                               make_synthetic_dataset)
from .transforms import *  # noqa: F401,F403

__all__ = [
    'CamVidDataset', 'CopyPasteDataset', 'SYNTHETIC_CLASSES',
    'SYNTHETIC_PALETTE', 'make_synthetic_dataset'
]
