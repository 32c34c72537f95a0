from .validate_seg_labels import ValidateSegLabels

__all__ = ['ValidateSegLabels']
