from .copy_paste import MOCO_V2_VIEW, CopyPaste
from .pack_copy_paste_inputs import PackCopyPasteInputs
from .validate_seg_labels import ValidateSegLabels

__all__ = [
    'CopyPaste', 'MOCO_V2_VIEW', 'PackCopyPasteInputs', 'ValidateSegLabels'
]
