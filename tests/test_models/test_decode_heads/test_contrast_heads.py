"""The contrast heads train with loss_contrast and infer exactly like the
stock heads: same outputs, same modules run, projection never touched."""
import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import cp2_mmseg  # noqa: F401

BN = dict(type='BN', requires_grad=True)
HR_IN = [4, 8, 16, 32]
HEADS = {
    'ContrastASPPHead': dict(
        in_channels=32, in_index=3, channels=8, dilations=(1, 2),
        num_classes=3, norm_cfg=BN),
    'ContrastFCNHead': dict(
        in_channels=HR_IN, in_index=(0, 1, 2, 3),
        input_transform='resize_concat', channels=sum(HR_IN), kernel_size=1,
        num_convs=1, concat_input=False, dropout_ratio=-1, num_classes=3,
        norm_cfg=BN),
    'ContrastOCRHead': dict(
        in_channels=HR_IN, in_index=(0, 1, 2, 3),
        input_transform='resize_concat', channels=16, ocr_channels=8,
        dropout_ratio=-1, num_classes=3, norm_cfg=BN),
}


def inputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(2, c, 32 // 2**i, 32 // 2**i, generator=g)
            for i, c in enumerate([4, 8, 16, 32])]


def build_pair(name):
    init_default_scope('mmseg')
    cfg = dict(HEADS[name], type=name,
               loss_contrast=dict(type='PixelContrastLoss', min_pixels=2,
                                  loss_weight=1.0))
    torch.manual_seed(0)
    contrast = MODELS.build(cfg)
    torch.manual_seed(1)  # other weights until the state dict is loaded
    stock = MODELS.build(dict(HEADS[name], type=name.replace('Contrast', '')))
    # a separately built stock head of mmseg, not our class
    assert type(stock).__module__.startswith('mmseg.')
    assert not any(torch.equal(a, b) for a, b in zip(
        stock.conv_seg.parameters(), contrast.conv_seg.parameters()))
    missing, unexpected = stock.load_state_dict(contrast.state_dict(),
                                                strict=False)
    assert missing == []
    assert unexpected and all(k.startswith('projection.')
                              for k in unexpected)
    return contrast.eval(), stock.eval()


def run(head, x, prev):
    return head.forward(x, prev) if prev is not None else head.forward(x)


@pytest.mark.parametrize('name', list(HEADS))
def test_inference_is_the_stock_head(name):
    contrast, stock = build_pair(name)
    x = inputs()
    prev = torch.randn(2, 3, 32, 32) if 'OCR' in name else None
    called = {'contrast': set(), 'stock': set()}
    for key, head in (('contrast', contrast), ('stock', stock)):
        for mod_name, mod in head.named_modules():
            mod.register_forward_hook(
                lambda m, i, o, n=mod_name, k=key: called[k].add(n))
    with torch.no_grad():
        out_c = run(contrast, x, prev)
        out_s = run(stock, x, prev)
    assert torch.equal(out_c, out_s)
    assert called['contrast'] == called['stock']
    assert not any(n.startswith('projection') for n in called['contrast'])
    # the parameters used at inference are the stock head's, no more
    n_stock = sum(p.numel() for p in stock.parameters())
    n_proj = sum(p.numel() for p in contrast.projection.parameters())
    assert sum(p.numel() for p in contrast.parameters()) == n_stock + n_proj


@pytest.mark.parametrize('name', list(HEADS))
def test_training_adds_loss_contrast_with_gradients(name):
    contrast, _ = build_pair(name)
    contrast.train()
    x = [t.clone().requires_grad_() for t in inputs()]
    samples = []
    for i in range(2):
        label = torch.zeros(1, 32, 32, dtype=torch.long)
        label[:, 16:] = 1 + i
        samples.append(SegDataSample(gt_sem_seg=PixelData(data=label)))
    if 'OCR' in name:
        losses = contrast.loss(x, torch.randn(2, 3, 32, 32), samples, {})
    else:
        losses = contrast.loss(x, samples, {})
    assert {'loss_ce', 'loss_contrast', 'acc_seg'} <= set(losses)
    assert losses['loss_contrast'] > 0
    losses['loss_contrast'].backward()
    assert all(p.grad is not None for p in contrast.projection.parameters())
    # the contrast gradient reaches the backbone features
    assert any(t.grad is not None and t.grad.abs().sum() > 0 for t in x)
