# Copyright (c) cp2-mmseg contributors. All rights reserved.
from .metrics import AuxLabelQualityMetric

__all__ = ['AuxLabelQualityMetric']
