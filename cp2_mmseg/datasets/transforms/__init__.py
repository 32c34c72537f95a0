from .add_source_coords import AddSourceCoords
from .copy_paste import MOCO_V2_VIEW, CopyPaste
from .load_aux_label import LoadAuxLabel
from .pack_aux_seg_inputs import PackAuxSegInputs
from .pack_copy_paste_inputs import PackCopyPasteInputs
from .two_views import TwoViews
from .validate_seg_labels import ValidateSegLabels

__all__ = [
    'AddSourceCoords', 'CopyPaste', 'LoadAuxLabel', 'MOCO_V2_VIEW',
    'PackAuxSegInputs', 'PackCopyPasteInputs', 'TwoViews', 'ValidateSegLabels'
]
