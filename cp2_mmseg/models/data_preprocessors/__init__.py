from .aux_view_data_preprocessor import AuxViewDataPreProcessor

__all__ = ['AuxViewDataPreProcessor']
