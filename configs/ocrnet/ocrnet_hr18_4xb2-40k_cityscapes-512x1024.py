# Stock mmseg baseline, re-exported so every method config inherits ours.
_base_ = ['mmseg::ocrnet/ocrnet_hr18_4xb2-40k_cityscapes-512x1024.py']
custom_imports = dict(imports=['cp2_mmseg'], allow_failed_imports=False)
