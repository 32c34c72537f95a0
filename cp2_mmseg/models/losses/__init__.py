from .aux_pixel_contrast_loss import AuxPixelContrastLoss
from .cp2_loss import cp2_dense_loss, cp2_instance_loss, masked_pool
from .pixel_contrast_loss import (PixelContrastLoss, pixel_contrast_terms,
                                  sample_anchors)
from .supervised_pixel_contrast_loss import SupervisedPixelContrastLoss

__all__ = [
    'AuxPixelContrastLoss', 'PixelContrastLoss',
    'SupervisedPixelContrastLoss', 'cp2_dense_loss', 'cp2_instance_loss',
    'masked_pool', 'pixel_contrast_terms', 'sample_anchors'
]
