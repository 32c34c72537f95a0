# Copyright (c) cp2-mmseg contributors. All rights reserved.
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import all_gather, get_world_size
from mmengine.logging import print_log
from mmengine.model import BaseModel, ExponentialMovingAverage
from mmseg.registry import MODELS
from torch import Tensor

from ..losses.cp2_loss import cp2_dense_loss, cp2_instance_loss, masked_pool
from ..utils.dist_utils import all_gather_cat
from ..utils.pretrained_backbone import load_backbone_checkpoint


class _Encoder(nn.Module):
    """backbone -> ASPP features (``_forward_feature``) -> projector."""

    def __init__(self, backbone: nn.Module, decode_head: nn.Module,
                 projector: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.decode_head = decode_head
        self.projector = projector

    def forward(self, x: Tensor) -> Tensor:
        return self.projector(
            self.decode_head._forward_feature(self.backbone(x)))


def sample_mask_at_cells(mask: Tensor, size: Tuple[int, int]) -> Tensor:
    """Point-sample (N, H, W) masks at the centres of an (h, w) grid.

    For a 224 input at stride 16 this is the official
    ``mask[:, 8::16, 8::16]``; it follows any input size, output stride or
    ViT patch grid.

    Args:
        mask (Tensor): (N, H, W) masks.
        size (tuple[int, int]): The feature size (h, w).

    Returns:
        Tensor: (N, h * w) float masks.
    """
    height, width = mask.shape[-2:]
    h, w = size
    rows = ((torch.arange(h, device=mask.device) + 0.5) * height / h).long()
    cols = ((torch.arange(w, device=mask.device) + 0.5) * width / w).long()
    return mask[:, rows][:, :, cols].flatten(1).float()


@MODELS.register_module()
class CP2(BaseModel):
    """CP2: Copy-Paste Contrastive Pretraining (Wang et al., ECCV 2022).

    Pretrains a whole segmentation model, backbone and ASPP head, without
    labels. The query encoder is ``backbone -> decode_head`` (its
    ``_forward_feature``, i.e. ASPP + bottleneck) ``-> projector``
    (Conv1x1 512, ReLU, Conv1x1 128, as the official ``contrast_conv``); the
    key encoder is its momentum copy. Losses:

    * ``loss_ins``: MoCo InfoNCE (temperature 0.2) between the
      foreground-pooled query and key embeddings, with a queue of
      foreground-pooled keys as negatives;
    * ``loss_dense`` (weight 0.2): per image, each foreground key pixel
      against all query pixels (softmax over query pixels, no temperature:
      the official code's axis), foreground query pixels being positives.

    Masks are point-sampled at the centres of the actual feature grid.
    Under DDP the key batch is shuffled across GPUs (shuffle BN) and the
    queue is fed with the keys of all GPUs; with one process the same code
    runs without shuffling. The queue, its pointer and the key encoder are
    buffers / submodules, so checkpoints save and ``--resume`` restores
    them. Logs ``acc_ins`` (top-1 of the MoCo logits) and ``acc_seg``
    (share of images whose most similar query-key pixel pair is a
    foreground pair).

    Args:
        backbone (dict): Backbone config (mmseg ``ResNet`` with OS16 or
            ``VisionTransformer``).
        decode_head (dict): ``ASPPHead`` config (``num_classes`` and its
            ``conv_seg`` are unused in pretraining).
        proj_channels (int): Projector hidden channels. Defaults to 512.
        feat_dim (int): Embedding size. Defaults to 128.
        queue_len (int): Queue length K. Defaults to 65536.
        momentum (float): mmengine EMA momentum, the weight of the *query*
            encoder in the update: ``k = (1 - momentum) * k + momentum * q``.
            0.001 is MoCo's m = 0.999. Defaults to 0.001.
        temperature (float): Instance-loss temperature. Defaults to 0.2.
        dense_temperature (float): Dense-loss temperature. Defaults to 1.
        dense_weight (float): Weight of the dense loss. Defaults to 0.2.
        dense_softmax_over (str): 'query' (official) or 'key'.
        backbone_checkpoint (str, optional): Quick tuning: initialise the
            backbone from a MoCo v2 / torchvision / mmpretrain ResNet or a
            timm / MoCo v3 / DINO ViT checkpoint (layout detected; a clear
            error when nothing fits). Loaded in ``init_weights``.
        backbone_checkpoint_family (str, optional): For ViTs: 'mocov3'
            (12 heads at ViT-S), 'dino' or 'timm' (6 heads at ViT-S). The
            backbone's ``num_heads`` is checked against the family (and the
            checkpoint's ``arch`` metadata, and its layout when that
            identifies a family); None uses the layout alone.
        data_preprocessor (dict, optional): Defaults to mmpretrain's
            ``SelfSupDataPreprocessor`` with ImageNet mean / std, to RGB.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 decode_head: dict,
                 proj_channels: int = 512,
                 feat_dim: int = 128,
                 queue_len: int = 65536,
                 momentum: float = 0.001,
                 temperature: float = 0.2,
                 dense_temperature: float = 1.0,
                 dense_weight: float = 0.2,
                 dense_softmax_over: str = 'query',
                 backbone_checkpoint: Optional[str] = None,
                 backbone_checkpoint_family: Optional[str] = None,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(
                type='mmpretrain.SelfSupDataPreprocessor',
                mean=[123.675, 116.28, 103.53],
                std=[58.395, 57.12, 57.375],
                to_rgb=True)
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if dense_softmax_over not in ('query', 'key'):
            raise ValueError(f'dense_softmax_over must be query or key, got '
                             f'{dense_softmax_over!r}')
        self.backbone = MODELS.build(backbone)
        self.decode_head = MODELS.build(decode_head)
        self.projector = nn.Sequential(
            nn.Conv2d(self.decode_head.channels, proj_channels, 1),
            nn.ReLU(inplace=True), nn.Conv2d(proj_channels, feat_dim, 1))
        self.encoder_k = ExponentialMovingAverage(
            _Encoder(self.backbone, self.decode_head, self.projector),
            momentum)
        for p in self.encoder_k.parameters():
            p.requires_grad = False
        self.feat_dim = feat_dim
        self.queue_len = queue_len
        self.temperature = temperature
        self.dense_temperature = dense_temperature
        self.dense_weight = dense_weight
        self.dense_softmax_over = dense_softmax_over
        self.backbone_checkpoint = backbone_checkpoint
        self.backbone_checkpoint_family = backbone_checkpoint_family
        self.register_buffer(
            'queue', F.normalize(torch.randn(feat_dim, queue_len), dim=0))
        self.register_buffer('queue_ptr', torch.zeros(1, dtype=torch.long))
        if any(isinstance(m, nn.SyncBatchNorm) for m in self.modules()):
            print_log(
                'CP2: the encoder uses SyncBN, so its batch statistics are '
                'global and the shuffle BN of the key encoder changes '
                "nothing (keys share statistics with their queries). The "
                "official code uses plain BN: norm_cfg=dict(type='BN').",
                logger='current',
                level=30)

    def init_weights(self) -> None:
        """Default init, then the quick-tuning backbone (if any), then the
        key encoder is reset to a copy of the query encoder."""
        super().init_weights()
        if self.backbone_checkpoint:
            load_backbone_checkpoint(
                self.backbone,
                self.backbone_checkpoint,
                family=self.backbone_checkpoint_family)
        self.encoder_k.module.load_state_dict(
            _Encoder(self.backbone, self.decode_head,
                     self.projector).state_dict())

    def encode(self, x: Tensor) -> Tensor:
        """Query encoder: (N, 3, H, W) -> (N, feat_dim, h, w), raw."""
        return self.projector(
            self.decode_head._forward_feature(self.backbone(x)))

    def forward(self,
                inputs: Union[Tensor, List[Tensor]],
                data_samples: Optional[list] = None,
                mode: str = 'tensor'):
        if mode == 'tensor':
            x = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
            return self.encode(x)
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        raise RuntimeError(f'CP2 supports mode tensor and loss, got {mode!r}')

    @torch.no_grad()
    def _dequeue_and_enqueue(self, keys: Tensor) -> None:
        """FIFO with wrap-around; the pointer advances by what was written.

        The keys of all processes are gathered (rank 0 first) with a
        variable-size gather: ranks may hold different numbers of valid
        keys, or none.

        Args:
            keys (Tensor): (n, feat_dim) keys of this process.
        """
        keys = all_gather_cat(keys.contiguous())
        n = keys.shape[0]
        if n >= self.queue_len:
            keys, n = keys[-self.queue_len:], self.queue_len
        ptr = int(self.queue_ptr)
        idx = (ptr + torch.arange(n, device=keys.device)) % self.queue_len
        self.queue[:, idx] = keys.t().to(self.queue.dtype)
        self.queue_ptr[0] = (ptr + n) % self.queue_len

    def _query_parameters(self) -> List[Tensor]:
        """Query-encoder parameters in the key encoder's order."""
        return [
            *self.backbone.parameters(), *self.decode_head.parameters(),
            *self.projector.parameters()
        ]

    @torch.no_grad()
    def _momentum_update(self) -> None:
        """``k = k + momentum * (q - k)`` (MoCo's ``m = 1 - momentum``) on
        the parameters, as the official code; the key encoder's BN running
        statistics come from its own forward passes.

        One ``foreach`` lerp over all parameters instead of a Python loop
        of per-tensor ops; no module is built per step.
        """
        ema = self.encoder_k
        k_params = list(ema.module.parameters())
        q_params = self._query_parameters()
        if len(k_params) != len(q_params):
            raise RuntimeError(
                f'CP2: the key encoder has {len(k_params)} parameters, the '
                f'query encoder {len(q_params)}')
        q_params = [q.detach() for q in q_params]
        if int(ema.steps) == 0:
            torch._foreach_copy_(k_params, q_params)
        else:
            torch._foreach_lerp_(k_params, q_params, ema.momentum)
        ema.steps += 1

    @torch.no_grad()
    def _encode_keys(self, im_k: Tensor) -> Tensor:
        """Momentum update, then the key encoder on a batch shuffled across
        processes (shuffle BN: each process normalises a random sub-batch
        of the global batch), un-shuffled back to this process's images."""
        from mmpretrain.models.utils import (batch_shuffle_ddp,
                                             batch_unshuffle_ddp)
        self._momentum_update()
        if get_world_size() > 1:
            im_k, idx_unshuffle = batch_shuffle_ddp(im_k)
            k = self.encoder_k(im_k)
            return batch_unshuffle_ddp(k, idx_unshuffle)
        return self.encoder_k(im_k)

    def loss(self, inputs: List[Tensor], data_samples: list
             ) -> Dict[str, Tensor]:
        """Both losses on a batch of (query, key) composites.

        Args:
            inputs (list[Tensor]): ``[im_q, im_k]``, each (N, 3, H, W).
            data_samples (list): With ``paste_masks`` (2, H, W) each.

        Returns:
            dict[str, Tensor]: ``loss_ins``, ``loss_dense`` (weighted),
            ``acc_ins``, ``acc_seg``.
        """
        im_q, im_k = inputs[0], inputs[1]
        masks = torch.stack([s.paste_masks for s in data_samples]).to(
            im_q.device)
        q = self.encode(im_q)
        k = self._encode_keys(im_k)
        size = q.shape[-2:]
        mask_q = sample_mask_at_cells(masks[:, 0], size)
        mask_k = sample_mask_at_cells(masks[:, 1], size)
        q = F.normalize(q.flatten(2), dim=1)
        k = F.normalize(k.flatten(2), dim=1)
        valid = (mask_q.sum(1) > 0) & (mask_k.sum(1) > 0)
        # decided on every rank together: an error raised on one rank
        # only would leave the others waiting in the next collective
        empty = all_gather(
            torch.tensor([int(not valid.any())], device=q.device))
        empty_ranks = [r for r, e in enumerate(empty) if e.item()]
        if empty_ranks:
            raise ValueError(
                'CP2: every image in the batch has an empty paste mask at '
                f'the {tuple(size)} feature grid (rank(s) {empty_ranks}); '
                'use larger crops or a larger area_range')
        q_pool = masked_pool(q, mask_q)
        k_pool = masked_pool(k, mask_k)
        ins, ins_hit = cp2_instance_loss(q_pool, k_pool,
                                         self.queue.clone().detach(),
                                         self.temperature)
        dense, seg_hit = cp2_dense_loss(q, k, mask_q, mask_k,
                                        self.dense_temperature,
                                        self.dense_softmax_over)
        self._dequeue_and_enqueue(k_pool[valid])
        vf = valid.float()
        num = vf.sum()
        return dict(
            loss_ins=(ins * vf).sum() / num,
            loss_dense=self.dense_weight * (dense * vf).sum() / num,
            acc_ins=(ins_hit * vf).sum() / num * 100,
            acc_seg=(seg_hit * vf).sum() / num * 100)
