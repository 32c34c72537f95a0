"""Mixed precision and CUDA.

On a CUDA device: every contrast config and the CP2 pretraining configs
train under mmengine's AmpOptimWrapper (fp16) with finite losses, and the
memory bank and the CP2 queue live on the GPU. Those tests are skipped where
there is no GPU (CI has none); run ``pytest tests/test_models/test_cuda.py``
on a GPU machine. The contrast loss under autocast equals the fp32 loss on
the CPU (bf16) always, and on the GPU (fp16) where there is one."""
import copy
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.model.utils import revert_sync_batchnorm
from mmengine.optim import AmpOptimWrapper
from mmengine.registry import init_default_scope
from mmengine.structures import BaseDataElement, PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import cp2_mmseg  # noqa: F401
from cp2_mmseg.models import PixelContrastLoss

from ..conftest import REPO
from ..test_configs import _strip_pretrained

needs_cuda = pytest.mark.skipif(
    not torch.cuda.is_available(), reason='needs a CUDA device')

CONTRAST = sorted(
    glob.glob(osp.join(REPO, 'configs', 'pixel_contrast', '*.py')))
CP2_PRETRAIN = sorted(glob.glob(osp.join(REPO, 'configs', 'cp2', 'cp2_*.py')))


def _config(path):
    cfg = _strip_pretrained(Config.fromfile(path))
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    return cfg


def _amp_wrapper(model):
    optim = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    return AmpOptimWrapper(optimizer=optim, dtype='float16')


def _seg_batch(num_classes, size=128, n=2):
    samples = []
    for i in range(n):
        label = torch.zeros(1, size, size, dtype=torch.long)
        label[:, :, size // 2:] = (i + 1) % num_classes
        label[:, size // 4:size // 2, :size // 2] = (i + 2) % num_classes
        label[:, :4] = 255
        samples.append(SegDataSample(gt_sem_seg=PixelData(data=label)))
    g = torch.Generator().manual_seed(0)
    inputs = [torch.randint(0, 255, (3, size, size), generator=g,
                            dtype=torch.uint8) for _ in range(n)]
    return dict(inputs=inputs, data_samples=samples)


def test_configs_found():
    assert len(CONTRAST) >= 15 and len(CP2_PRETRAIN) >= 3


@needs_cuda
@pytest.mark.parametrize('path', CONTRAST,
                         ids=[osp.basename(p) for p in CONTRAST])
def test_contrast_config_amp_train_steps(path):
    torch.manual_seed(0)
    cfg = _config(path)
    cfg.model.data_preprocessor.size = (128, 128)
    heads = cfg.model.decode_head
    head = heads[-1] if isinstance(heads, (list, tuple)) else heads
    head.loss_contrast.update(warmup_iters=0, min_pixels=4)
    model = revert_sync_batchnorm(MODELS.build(cfg.model)).cuda().train()
    wrapper = _amp_wrapper(model)
    data = _seg_batch(head.num_classes)
    for _ in range(3):  # a memory bank is filled by the first step
        log = model.train_step(copy.deepcopy(data), wrapper)
    key = [k for k in log if k.endswith('.loss_contrast')]
    assert len(key) == 1, list(log)
    assert all(torch.isfinite(v).all() for v in log.values()), log
    assert log[key[0]] > 0
    loss_mod = [m for m in model.modules()
                if isinstance(m, PixelContrastLoss)][0]
    if loss_mod.memory_bank is not None:
        bank = loss_mod.memory_bank
        assert bank.pixel_queue.is_cuda and int(bank.pixel_filled.sum()) > 0
    params = [p for p in model.parameters() if p.requires_grad]
    assert all(torch.isfinite(p).all() for p in params)


@needs_cuda
@pytest.mark.parametrize('path', CP2_PRETRAIN,
                         ids=[osp.basename(p) for p in CP2_PRETRAIN])
def test_cp2_config_amp_train_steps(path):
    torch.manual_seed(0)
    cfg = _config(path)
    model = revert_sync_batchnorm(MODELS.build(cfg.model)).cuda().train()
    model.init_weights()
    wrapper = _amp_wrapper(model)
    size, n = (96 if 'camvid' in osp.basename(path) else 224), 4
    masks = []
    for _ in range(n):
        m = torch.zeros(2, size, size, dtype=torch.bool)
        m[0, size // 8:size * 7 // 8, size // 10:size * 8 // 10] = True
        m[1, size // 5:size * 9 // 10, size // 8:size * 7 // 8] = True
        masks.append(BaseDataElement(paste_masks=m))
    g = torch.Generator().manual_seed(0)
    data = dict(
        inputs=[torch.randint(0, 255, (n, 3, size, size), generator=g,
                              dtype=torch.uint8) for _ in range(2)],
        data_samples=masks)
    ptr0 = int(model.queue_ptr)
    for _ in range(3):
        log = model.train_step(copy.deepcopy(data), wrapper)
    assert {'loss_ins', 'loss_dense', 'acc_ins', 'acc_seg'} <= set(log), log
    assert all(torch.isfinite(v).all() for v in log.values()), log
    assert model.queue.is_cuda
    assert int(model.queue_ptr) == (ptr0 + 3 * n) % model.queue.shape[1]


@pytest.mark.parametrize('device,dtype,tol', [
    ('cpu', torch.bfloat16, 2e-2),
    pytest.param('cuda', torch.float16, 2e-3, marks=needs_cuda),
])
def test_contrast_loss_under_autocast_equals_fp32(device, dtype, tol):
    """Half-precision embeddings under autocast give the fp32 loss (the
    loss upcasts and runs outside autocast), in fp32."""
    torch.manual_seed(0)
    embed = torch.nn.functional.normalize(
        torch.randn(2, 64, 32, 32), dim=1).to(device)
    labels = torch.randint(0, 5, (2, 32, 32)).to(device)
    logits = torch.randn(2, 5, 32, 32).to(device)
    loss = PixelContrastLoss(loss_weight=1.0, min_pixels=2,
                             max_samples=10**6, max_views=10**6).to(device)
    ref = loss(embed, logits, labels)
    with torch.autocast(device, dtype):
        got = loss(embed.to(dtype), logits.to(dtype), labels)
    assert got.dtype == torch.float32 and torch.isfinite(got)
    # every pixel is an anchor (max_views huge), so only the rounding of
    # the embeddings to half precision differs
    torch.testing.assert_close(got, ref, rtol=tol, atol=tol)
