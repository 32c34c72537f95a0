# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""How good are auxiliary labels for contrastive learning? Pair-based
scores from K x C contingency tables (OUR definition: the paper's metric is
not available; see ``docs`` / the spec).

Auxiliary labels act on training only through which pixel pairs become
positives (same auxiliary label) or negatives (different ones). Against
the ground truth C, with ``n[k, c]`` the pixels of auxiliary label k and
class c (both valid), ``n_k`` / ``m_c`` the margins and N the total, over
ordered pairs without self-pairs:

* positive precision ``PosPrec = sum n_kc (n_kc - 1) / sum n_k (n_k - 1)``;
* positive recall ``PosRec = sum n_kc (n_kc - 1) / sum m_c (m_c - 1)``;
* false-negative rate ``FNR``: same-class pairs among the negative pairs;
* anchor-averaged versions (each pixel an anchor, as the loss averages):
  ``PosPrec_a`` and ``FNR_a``;
* cross-image versions (pairs from different images only) from the
  per-image sums of squared counts;
* ``Q = PosPrec_a * (1 - FNR_a)``, the headline;
* references: NMI, ARI, Hungarian mIoU (one-to-one matching of auxiliary
  labels to classes).
"""
from typing import Dict

import numpy as np
import torch
from torch import Tensor


def contingency(aux: Tensor, gt: Tensor, num_aux: int, num_classes: int,
                aux_ignore: int = 255, gt_ignore: int = 255) -> Tensor:
    """(K, C) counts of one image's pixels valid in both maps.

    Args:
        aux (Tensor): Auxiliary labels, any shape.
        gt (Tensor): Ground truth, same shape.
        num_aux (int): K.
        num_classes (int): C.
        aux_ignore (int): Ignored auxiliary label (outliers).
        gt_ignore (int): Ignored class.

    Returns:
        Tensor: (K, C) int64.
    """
    aux, gt = aux.reshape(-1).long(), gt.reshape(-1).long()
    ok = (aux != aux_ignore) & (gt != gt_ignore)
    bad_a = ok & ((aux < 0) | (aux >= num_aux))
    bad_g = ok & ((gt < 0) | (gt >= num_classes))
    if bad_a.any() or bad_g.any():
        raise ValueError(
            f'contingency: auxiliary labels {aux[bad_a].unique().tolist()} '
            f'outside 0..{num_aux - 1} / classes '
            f'{gt[bad_g].unique().tolist()} outside 0..{num_classes - 1}')
    idx = aux[ok] * num_classes + gt[ok]
    return torch.bincount(idx, minlength=num_aux * num_classes).reshape(
        num_aux, num_classes)


def _pairs(x: np.ndarray) -> float:
    return float((x * (x - 1)).sum())


def _hungarian_miou(n: np.ndarray) -> float:
    """mIoU over classes after a one-to-one matching of auxiliary labels to
    classes maximising the matched pixels (unmatched classes score 0)."""
    from scipy.optimize import linear_sum_assignment
    rows, cols = linear_sum_assignment(-n)
    n_k, m_c = n.sum(1), n.sum(0)
    present = m_c > 0
    iou = np.zeros(n.shape[1])
    for r, c in zip(rows, cols):
        union = n_k[r] + m_c[c] - n[r, c]
        iou[c] = n[r, c] / union if union > 0 else 0.
    return float(iou[present].mean()) if present.any() else 0.


def aux_label_scores(table: np.ndarray,
                     sq_table: np.ndarray = None,
                     sq_aux: np.ndarray = None,
                     sq_gt: np.ndarray = None,
                     sq_total: float = None,
                     num_valid: int = None) -> Dict[str, float]:
    """All scores from the summed table and the cross-image accumulators.

    Args:
        table (ndarray): (K, C) counts summed over images.
        sq_table (ndarray, optional): (K, C) sum over images of the squared
            per-image counts; with ``sq_aux`` (K,), ``sq_gt`` (C,) and
            ``sq_total`` it gives the cross-image scores.
        num_valid (int, optional): Pixels with a valid class, kept or not
            (for ``coverage``).

    Returns:
        dict[str, float]: ``pos_prec``, ``pos_rec``, ``fnr``,
        ``pos_prec_a``, ``fnr_a``, ``q``, ``f1``, cross-image ``*_x``,
        ``coverage``, ``nmi``, ``ari``, ``hungarian_miou``.
    """
    n = np.asarray(table, dtype=np.float64)
    n_k, m_c = n.sum(1), n.sum(0)
    total = n.sum()
    tp = _pairs(n)
    same_aux, same_gt = _pairs(n_k), _pairs(m_c)
    all_pairs = total * (total - 1)
    out = {}
    out['pos_prec'] = tp / same_aux if same_aux else 0.
    out['pos_rec'] = tp / same_gt if same_gt else 0.
    neg = all_pairs - same_aux
    out['fnr'] = (same_gt - tp) / neg if neg else 0.
    # anchor-averaged: each pixel of cluster k with n_k > 1 is an anchor
    many = n_k > 1
    anchors = n_k[many].sum()
    out['pos_prec_a'] = float(
        (n[many] * (n[many] - 1) / (n_k[many, None] - 1)).sum() /
        anchors) if anchors else 0.
    rest = total - n_k
    with np.errstate(divide='ignore', invalid='ignore'):
        fn = np.where(rest[:, None] > 0,
                      n * (m_c[None] - n) / rest[:, None], 0.)
    out['fnr_a'] = float(fn.sum() / total) if total else 0.
    out['q'] = out['pos_prec_a'] * (1 - out['fnr_a'])
    p, r = out['pos_prec'], out['pos_rec']
    out['f1'] = 2 * p * r / (p + r) if p + r else 0.
    if sq_table is not None:
        tp_x = float((n**2).sum() - np.asarray(sq_table).sum())
        sa_x = float((n_k**2).sum() - np.asarray(sq_aux).sum())
        sg_x = float((m_c**2).sum() - np.asarray(sq_gt).sum())
        t_x = float(total**2 - sq_total)
        out['pos_prec_x'] = tp_x / sa_x if sa_x else 0.
        out['pos_rec_x'] = tp_x / sg_x if sg_x else 0.
        out['fnr_x'] = (sg_x - tp_x) / (t_x - sa_x) if t_x - sa_x else 0.
    if num_valid is not None:
        out['coverage'] = total / num_valid if num_valid else 0.
    # references
    with np.errstate(divide='ignore', invalid='ignore'):
        pk, pc, pkc = n_k / total, m_c / total, n / total
        h_k = -np.nansum(pk * np.log(pk))
        h_c = -np.nansum(pc * np.log(pc))
        mi = np.nansum(pkc * (np.log(pkc) - np.log(pk[:, None]) -
                              np.log(pc[None])))
    out['nmi'] = float(2 * mi / (h_k + h_c)) if h_k + h_c > 0 else 1.
    comb = lambda x: x * (x - 1) / 2  # noqa: E731
    index = comb(n).sum()
    expected = comb(n_k).sum() * comb(m_c).sum() / comb(total) if total > 1 \
        else 0.
    max_index = (comb(n_k).sum() + comb(m_c).sum()) / 2
    out['ari'] = float((index - expected) / (max_index - expected)) \
        if max_index != expected else 1.
    out['hungarian_miou'] = _hungarian_miou(n)
    return out
