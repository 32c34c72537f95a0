# Copyright (c) cp2-mmseg contributors. All rights reserved.
from .aux_label_quality import AuxLabelQualityMetric

__all__ = ['AuxLabelQualityMetric']
