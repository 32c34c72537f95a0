from .cross_image_memory_bank import CrossImageMemoryBank
from .dist_utils import all_gather_cat
from .grouped_sampling import rank_within_groups
from .masked_ops import masked_logsumexp, supcon_anchor_terms
from .memory_contrast import MemoryClassLSE, memory_class_lse
from .photometric_jitter import BatchPhotometricJitter
from .projection_head import ProjectionHead
from .semi_hard_mining import (GatheredSimilarity, gathered_similarity,
                               mine_memory, semi_hard_sample)

__all__ = [
    'BatchPhotometricJitter', 'CrossImageMemoryBank', 'GatheredSimilarity', 'MemoryClassLSE',
    'ProjectionHead', 'all_gather_cat', 'gathered_similarity',
    'masked_logsumexp', 'memory_class_lse', 'rank_within_groups',
    'semi_hard_sample', 'mine_memory', 'supcon_anchor_terms'
]
