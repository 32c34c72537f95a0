# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Auxiliary labels for "Looking beyond single images" (Zhang et al.,
NeurIPS 2021): clustering and label-quality scores (work in progress: the
generation tool, data pipeline, loss and configs are not built yet)."""
from .kmeans import (assign, global_subsample, kmeans, kmeans_pp,
                     outlier_threshold)
from .quality import aux_label_scores, contingency

__all__ = [
    'assign', 'global_subsample', 'kmeans', 'kmeans_pp', 'outlier_threshold',
    'aux_label_scores', 'contingency'
]
