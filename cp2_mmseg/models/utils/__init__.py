from .cross_image_memory_bank import CrossImageMemoryBank
from .dist_utils import all_gather_cat
from .grouped_sampling import rank_within_groups
from .masked_ops import masked_logsumexp
from .memory_contrast import MemoryClassLSE, memory_class_lse
from .projection_head import ProjectionHead

__all__ = [
    'CrossImageMemoryBank', 'MemoryClassLSE', 'ProjectionHead',
    'all_gather_cat', 'masked_logsumexp', 'memory_class_lse',
    'rank_within_groups'
]
