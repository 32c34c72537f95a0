"""Stage 1 of label-efficient contrastive pretraining: two views through one
network, only the contrast loss trains, inference is stock DeepLabV3+."""
import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import cp2_mmseg  # noqa: F401
from cp2_mmseg.models.utils import BatchPhotometricJitter

BN = dict(type='BN', requires_grad=True)


def model_cfg(seg_type='LabelContrastEncoderDecoder',
              head='LabelContrastSepASPPHead', **head_kw):
    return dict(
        type=seg_type,
        data_preprocessor=dict(
            type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375], bgr_to_rgb=True, size=(32, 32)),
        backbone=dict(type='ResNetV1c', depth=18, base_channels=8,
                      out_indices=(0, 1, 2, 3), strides=(1, 2, 2, 1),
                      dilations=(1, 1, 1, 2), norm_cfg=BN),
        decode_head=dict(
            type=head, in_channels=64, in_index=3, channels=16,
            dilations=(1, 2), c1_in_channels=8, c1_channels=4,
            dropout_ratio=0.1, num_classes=3, norm_cfg=BN, **head_kw),
        train_cfg=dict(), test_cfg=dict(mode='whole'))


def batch(seed=0, n=2):
    g = torch.Generator().manual_seed(seed)
    samples = []
    for _ in range(n):
        s = SegDataSample(metainfo=dict(img_shape=(32, 32),
                                         ori_shape=(32, 32),
                                         pad_shape=(32, 32)))
        lbl = torch.randint(0, 3, (1, 32, 32), generator=g)
        lbl[:, :4] = 255
        s.gt_sem_seg = PixelData(data=lbl)
        samples.append(s)
    imgs = [torch.randint(0, 256, (3, 32, 32), generator=g).float()
            for _ in range(n)]
    return dict(inputs=imgs, data_samples=samples)


def test_train_step_only_contrast_and_gradients():
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(model_cfg(
        loss_contrast=dict(type='SupervisedPixelContrastLoss',
                           resize_size=(8, 8))))
    model.train()
    data = model.data_preprocessor(batch(), True)
    losses = model(**data, mode='loss')
    assert list(losses) == ['decode.loss_spc']
    loss = losses['decode.loss_spc']
    assert torch.isfinite(loss) and loss > 0
    loss.backward()
    head = model.decode_head
    assert head.conv_seg.weight.grad is None  # left for stage 2
    assert head.projection.proj[1].weight.grad.abs().sum() > 0
    assert model.backbone.stem[0].weight.grad.abs().sum() > 0
    assert head.c1_bottleneck.conv.weight.grad.abs().sum() > 0


def test_with_ce_adds_the_stock_loss():
    init_default_scope('mmseg')
    model = MODELS.build(model_cfg(with_ce=True))
    model.train()
    losses = model(**model.data_preprocessor(batch(), True), mode='loss')
    assert set(losses) >= {'decode.loss_spc', 'decode.loss_ce'}


def test_inference_is_stock_deeplabv3plus():
    init_default_scope('mmseg')
    ours = MODELS.build(model_cfg())
    stock = MODELS.build(model_cfg('EncoderDecoder',
                                   'DepthwiseSeparableASPPHead'))
    missing, unexpected = stock.load_state_dict(ours.state_dict(),
                                                strict=False)
    assert missing == [] and all('projection' in k for k in unexpected)
    ours.eval(), stock.eval()
    data = ours.data_preprocessor(batch(1), False)
    with torch.no_grad():
        a = ours(data['inputs'], mode='tensor')
        b = stock(data['inputs'], mode='tensor')
    assert torch.equal(a, b)


def test_head_in_a_plain_segmentor_is_a_clear_error():
    init_default_scope('mmseg')
    model = MODELS.build(model_cfg('EncoderDecoder'))
    model.train()
    with pytest.raises(ValueError, match='LabelContrastEncoderDecoder'):
        model(**model.data_preprocessor(batch(), True), mode='loss')


def test_view_is_jittered_per_image_in_pixel_space():
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(model_cfg())
    data = model.data_preprocessor(batch(n=4), True)
    view = model.make_view(data['inputs'])
    pre = model.data_preprocessor
    raw = view * pre.std + pre.mean
    assert raw.min() >= -1e-3 and raw.max() <= 255 + 1e-3
    assert not torch.allclose(view, data['inputs'])
    diffs = (view - data['inputs']).abs().mean((1, 2, 3))
    assert len(set(diffs.round(decimals=4).tolist())) == 4  # per image


def test_jitter_grey_and_identity():
    img = torch.rand(3, 3, 5, 5) * 255
    same = BatchPhotometricJitter(0, 0, 0, gray_prob=0)(img)
    assert torch.allclose(same, img)
    grey = BatchPhotometricJitter(0, 0, 0, gray_prob=1)(img)
    assert torch.allclose(grey[:, 0], grey[:, 1])
    with pytest.raises(ValueError, match='brightness'):
        BatchPhotometricJitter(brightness=1.5)


def test_deeplabv3_aspp_variant_trains_and_infers_as_stock():
    init_default_scope('mmseg')
    cfg = model_cfg(head='LabelContrastASPPHead')
    for key in ('c1_in_channels', 'c1_channels'):
        cfg['decode_head'].pop(key)
    ours = MODELS.build(cfg)
    ours.train()
    losses = ours(**ours.data_preprocessor(batch(), True), mode='loss')
    losses['decode.loss_spc'].backward()
    assert ours.decode_head.bottleneck.conv.weight.grad.abs().sum() > 0
    stock_cfg = dict(cfg, type='EncoderDecoder')
    stock_cfg['decode_head'] = dict(cfg['decode_head'], type='ASPPHead')
    stock = MODELS.build(stock_cfg)
    stock.load_state_dict(ours.state_dict(), strict=False)
    ours.eval(), stock.eval()
    data = ours.data_preprocessor(batch(1), False)
    with torch.no_grad():
        assert torch.equal(ours(data['inputs'], mode='tensor'),
                           stock(data['inputs'], mode='tensor'))


@pytest.mark.parametrize('after', [True, False])
def test_projection_order(after):
    """Official order (default): resize the decoder features to the loss's
    resize_size, then project (the projection's BN sees the resized map);
    the other order projects first and the loss resizes the embeddings."""
    import torch.nn.functional as F
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(model_cfg(
        loss_contrast=dict(type='SupervisedPixelContrastLoss',
                           resize_size=(3, 5)),
        **({} if after else dict(project_after_resize=False))))
    head = model.decode_head.train()
    assert head.project_after_resize is after
    feats = torch.randn(2, 16, 8, 8)
    seen = {}
    head.projection.register_forward_hook(
        lambda m, i, o: seen.update(shape=tuple(i[0].shape[2:])))
    got = head.embed(feats)
    if after:
        assert seen['shape'] == (3, 5) and tuple(got.shape[2:]) == (3, 5)
        ref = head.projection(F.interpolate(
            feats, size=(3, 5), mode='bilinear', align_corners=True))
        assert torch.allclose(got, ref, atol=1e-6)
        other = F.interpolate(head.projection(feats), size=(3, 5),
                              mode='bilinear', align_corners=True)
        assert not torch.allclose(got, F.normalize(other, dim=1), atol=1e-3)
    else:
        assert seen['shape'] == (8, 8) and tuple(got.shape[2:]) == (8, 8)
