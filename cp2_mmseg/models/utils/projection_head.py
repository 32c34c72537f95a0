# Copyright (c) cp2-mmseg contributors. All rights reserved.
from typing import Optional

import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class ProjectionHead(nn.Module):
    """Pixel embedding head of the pixel-contrast models.

    ``convmlp`` (official default): Conv1x1(in, hidden) - BN - ReLU -
    Conv1x1(hidden, channels); ``linear``: Conv1x1(in, channels). The output
    is L2-normalised over channels at every pixel.

    Args:
        in_channels (int): Input channels.
        channels (int): Embedding size. Defaults to 256.
        proj_type (str): 'convmlp' or 'linear'. Defaults to 'convmlp'.
        norm_cfg (dict, optional): Norm of the hidden layer.
            Defaults to BN.
        hidden_channels (int, optional): Width of the hidden layer of
            ``convmlp``: ``in_channels`` (Wang et al.'s ContrastiveSeg) if
            None; Zhao et al.'s head uses 256. Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 channels: int = 256,
                 proj_type: str = 'convmlp',
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 hidden_channels: Optional[int] = None) -> None:
        super().__init__()
        hidden = hidden_channels or in_channels
        if proj_type == 'convmlp':
            self.proj = nn.Sequential(
                ConvModule(
                    in_channels,
                    hidden,
                    1,
                    norm_cfg=norm_cfg,
                    act_cfg=dict(type='ReLU')),
                nn.Conv2d(hidden, channels, 1))
        elif proj_type == 'linear':
            self.proj = nn.Conv2d(in_channels, channels, 1)
        else:
            raise ValueError(f'proj_type must be convmlp or linear, got '
                             f'{proj_type!r}')

    def forward(self, x: Tensor) -> Tensor:
        """(B, in, h, w) -> (B, channels, h, w), unit norm per pixel."""
        return F.normalize(self.proj(x), p=2, dim=1)
