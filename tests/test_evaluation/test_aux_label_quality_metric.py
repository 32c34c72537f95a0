import numpy as np
import pytest
import torch

from cp2_mmseg.evaluation import AuxLabelQualityMetric

from ..test_aux_labels.test_quality import accumulate, brute


def test_metric_equals_the_scores_and_brute_force():
    rng = np.random.default_rng(4)
    aux = [rng.integers(0, 5, (6, 7)) for _ in range(3)]
    gt = [rng.integers(0, 3, (6, 7)) for _ in range(3)]
    aux[1][0] = 255
    metric = AuxLabelQualityMetric(num_aux=5, num_classes=3)
    for a, g in zip(aux, gt):  # one image per batch, SegDataSample dicts
        metric.process(None, [dict(
            gt_sem_seg=dict(data=torch.from_numpy(g)[None]),
            gt_aux_label=dict(data=torch.from_numpy(a)[None]))])
    got = metric.evaluate(3)
    ref = accumulate(aux, gt, 5, 3)
    for k in ('q', 'pos_prec', 'fnr_a', 'pos_prec_x', 'fnr_x', 'nmi'):
        assert got[f'aux/{k}'] == pytest.approx(ref[k]), k
    for k, v in brute(aux, gt).items():
        assert got[f'aux/{k}'] == pytest.approx(v), k
    assert got['aux/coverage'] == pytest.approx(1 - 7 / 126)


def test_stride_counts_every_stride_th_pixel():
    gt = np.arange(64).reshape(8, 8) % 3
    aux = (np.arange(64).reshape(8, 8) // 5) % 4
    metric = AuxLabelQualityMetric(num_aux=4, num_classes=3, stride=4)
    metric.process(None, [dict(gt_sem_seg=gt, gt_aux_label=aux)])
    got = metric.evaluate(1)
    ref = accumulate([aux[::4, ::4]], [gt[::4, ::4]], 4, 3)
    assert got['aux/q'] == pytest.approx(ref['q'])


def test_size_mismatch_named():
    metric = AuxLabelQualityMetric(num_aux=4, num_classes=3)
    with pytest.raises(ValueError, match='differ in size'):
        metric.process(None, [dict(gt_sem_seg=np.zeros((4, 4)),
                                   gt_aux_label=np.zeros((4, 5)))])
