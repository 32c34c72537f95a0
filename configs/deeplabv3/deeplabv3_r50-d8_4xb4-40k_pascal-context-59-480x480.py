# Stock mmseg baseline, re-exported so every method config inherits ours.
_base_ = ['mmseg::deeplabv3/deeplabv3_r50-d8_4xb4-40k_pascal-context-59-480x480.py']
custom_imports = dict(imports=['cp2_mmseg'], allow_failed_imports=False)
