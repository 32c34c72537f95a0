from .copy_paste import MOCO_V2_VIEW, CopyPaste
from .load_aux_label import LoadAuxLabel
from .pack_copy_paste_inputs import PackCopyPasteInputs
from .validate_seg_labels import ValidateSegLabels

__all__ = [
    'CopyPaste', 'LoadAuxLabel', 'MOCO_V2_VIEW', 'PackCopyPasteInputs',
    'ValidateSegLabels'
]
