from .cp2 import CP2, sample_mask_at_cells

__all__ = ['CP2', 'sample_mask_at_cells']
