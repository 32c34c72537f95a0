from .contrast_aspp_head import ContrastASPPHead
from .contrast_fcn_head import ContrastFCNHead
from .contrast_head_mixin import ContrastHeadMixin
from .contrast_ocr_head import ContrastOCRHead
from .label_contrast_aspp_head import LabelContrastASPPHead
from .label_contrast_head_mixin import LabelContrastHeadMixin
from .label_contrast_sep_aspp_head import LabelContrastSepASPPHead

__all__ = [
    'ContrastASPPHead', 'ContrastFCNHead', 'ContrastHeadMixin',
    'ContrastOCRHead', 'LabelContrastASPPHead', 'LabelContrastHeadMixin',
    'LabelContrastSepASPPHead'
]
