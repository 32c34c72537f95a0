# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Auxiliary labels for "Looking beyond single images" (Zhang et al.,
NeurIPS 2021): extraction, clustering, generation and label-quality
scores. The data pipeline, loss and model are in ``cp2_mmseg.datasets`` and
``cp2_mmseg.models`` (see docs/beyond_single.md)."""
from .dbscan import dbscan, dbscan_assign
from .extractor import FeatureExtractor, features_at, file_sha256
from .generate import (dbscan_setting_name, generate_aux_label_sets,
                       generate_aux_labels, setting_name, split_dataset_cfg)
from .kmeans import (assign, global_subsample, kmeans, kmeans_pp,
                     outlier_threshold)
from .quality import aux_label_scores, contingency

__all__ = [
    'FeatureExtractor', 'features_at', 'file_sha256', 'generate_aux_labels',
    'generate_aux_label_sets', 'setting_name', 'split_dataset_cfg',
    'assign', 'global_subsample', 'kmeans', 'kmeans_pp', 'outlier_threshold',
    'aux_label_scores', 'contingency', 'dbscan', 'dbscan_assign',
    'dbscan_setting_name'
]
