from .aux_contrast_encoder_decoder import AuxContrastEncoderDecoder
from .label_contrast_encoder_decoder import LabelContrastEncoderDecoder

__all__ = ['AuxContrastEncoderDecoder', 'LabelContrastEncoderDecoder']
