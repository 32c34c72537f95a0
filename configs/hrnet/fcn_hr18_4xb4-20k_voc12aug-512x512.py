# Stock mmseg baseline, re-exported so every method config inherits ours.
_base_ = ['mmseg::hrnet/fcn_hr18_4xb4-20k_voc12aug-512x512.py']
custom_imports = dict(imports=['cp2_mmseg'], allow_failed_imports=False)
