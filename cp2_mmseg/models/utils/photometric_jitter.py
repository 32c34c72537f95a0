# Copyright (c) cp2-mmseg contributors. All rights reserved.
from typing import Tuple

import torch
import torch.nn as nn
from mmseg.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class BatchPhotometricJitter(nn.Module):
    """Per-image colour jitter of a batch on its device, labels unchanged.

    Brightness, contrast and saturation factors are drawn per image from
    ``[1 - s, 1 + s]`` and applied in that order (torchvision's
    ``ColorJitter`` draws a random order; we keep one), then the image
    turns grey with probability ``gray_prob``. Vectorised over the batch.

    Args:
        brightness (float): s for brightness. Defaults to 0.4.
        contrast (float): s for contrast. Defaults to 0.4.
        saturation (float): s for saturation. Defaults to 0.4.
        gray_prob (float): Probability of a grey image. Defaults to 0.2.
        max_value (float): Pixel range [0, max_value]. Defaults to 255.
    """

    def __init__(self,
                 brightness: float = 0.4,
                 contrast: float = 0.4,
                 saturation: float = 0.4,
                 gray_prob: float = 0.2,
                 max_value: float = 255.) -> None:
        super().__init__()
        for name, value in (('brightness', brightness),
                            ('contrast', contrast),
                            ('saturation', saturation)):
            if not 0 <= value < 1:
                raise ValueError(f'{name} must be in [0, 1), got {value}')
        if not 0 <= gray_prob <= 1:
            raise ValueError(f'gray_prob must be in [0, 1], got {gray_prob}')
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
        self.gray_prob = gray_prob
        self.max_value = max_value

    def _factor(self, strength: float, n: int, ref: Tensor) -> Tensor:
        u = torch.rand(n, 1, 1, 1, device=ref.device, dtype=ref.dtype)
        return 1 + strength * (2 * u - 1)

    @staticmethod
    def _gray(img: Tensor, weights: Tuple[float, float, float]) -> Tensor:
        w = img.new_tensor(weights).view(1, 3, 1, 1)
        return (img * w).sum(1, keepdim=True)

    def forward(self, img: Tensor, rgb: bool = True) -> Tensor:
        """Jitter (B, 3, H, W) images in [0, max_value].

        Args:
            img (Tensor): The batch (not changed in place).
            rgb (bool): Channel order RGB (else BGR), for the grey weights.

        Returns:
            Tensor: The jittered batch, same shape, clamped to the range.
        """
        if img.dim() != 4 or img.shape[1] != 3:
            raise ValueError(f'expected (B, 3, H, W) images, got '
                             f'{tuple(img.shape)}')
        weights = (0.299, 0.587, 0.114) if rgb else (0.114, 0.587, 0.299)
        n, top = img.shape[0], self.max_value
        out = (img * self._factor(self.brightness, n, img)).clamp(0, top)
        mean = self._gray(out, weights).mean((2, 3), keepdim=True)
        c = self._factor(self.contrast, n, img)
        out = (c * out + (1 - c) * mean).clamp(0, top)
        s = self._factor(self.saturation, n, img)
        out = (s * out + (1 - s) * self._gray(out, weights)).clamp(0, top)
        gray = torch.rand(n, 1, 1, 1, device=img.device) < self.gray_prob
        return torch.where(gray, self._gray(out, weights).expand_as(out), out)
