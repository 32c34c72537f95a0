from .label_contrast_encoder_decoder import LabelContrastEncoderDecoder

__all__ = ['LabelContrastEncoderDecoder']
