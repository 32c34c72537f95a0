import pytest
import torch
import torch.nn.functional as F

from cp2_mmseg.models.losses import AuxPixelContrastLoss
from cp2_mmseg.models.losses.aux_pixel_contrast_loss import cell_size

IGN = 255


def _batch(seed=0, n_img=2, H=8, W=8, k=3):
    """Two views of ``n_img`` images at input H x W, embeddings at H/2.

    View 0 shows each image as is; view 1 shows it flipped left-right and
    at half scale (source pixels 2 apart), so its cells are 4 source pixels
    apart against 2 in view 0. Rows: all first views, then second views.
    """
    g = torch.Generator().manual_seed(seed)
    N = 2 * n_img
    embed = torch.randn(N, 5, H // 2, W // 2, generator=g)
    aux = torch.randint(0, k, (N, H, W), generator=g)
    aux[0, :2, :2] = IGN  # outliers
    aux[N - 1, 4:, :] = IGN
    ys, xs = torch.meshgrid(torch.arange(H, dtype=torch.float32),
                            torch.arange(W, dtype=torch.float32),
                            indexing='ij')
    v0 = torch.stack([ys, xs])
    v1 = torch.stack([2 * ys, 2 * (W - 1 - xs)])
    coord = torch.stack([v0] * n_img + [v1] * n_img)
    coord[N - 1, :, :2, :] = -1  # padding rows
    image_id = torch.arange(N) % n_img
    view = torch.arange(N) // n_img
    return embed, aux, coord, image_id, view


def _reference(embed, aux, coord, image_id, view, T, ratio, use_views,
               anchors=None, img_offset=0):
    """Float64 loops over anchors and pairs, from the definitions
    (differentiable in ``embed``)."""
    N, C, h, w = embed.shape
    f = F.normalize(embed.double(), dim=1).permute(0, 2, 3, 1).reshape(-1, C)
    # nearest downsampling by 2 keeps the top-left pixel of every cell
    lbl = aux[:, ::2, ::2].reshape(-1).tolist()
    src = coord[:, :, ::2, ::2].permute(0, 2, 3, 1).reshape(-1, 2).tolist()
    # cells: 2 source pixels in view 0, 4 in view 1 (by construction)
    cell = [2.0 if view[i // (h * w)] == 0 else 4.0 for i in range(len(lbl))]
    img = [int(image_id[i // (h * w)]) + img_offset for i in range(len(lbl))]
    vw = [int(view[i // (h * w)]) for i in range(len(lbl))]
    M = len(lbl)
    anchors = range(M) if anchors is None else anchors
    total, count = 0.0, 0
    for p in anchors:
        if lbl[p] == IGN:
            continue
        pos, neg = [], []
        for q in range(M):
            if q == p:
                continue
            match = (use_views and img[p] == img[q] and vw[p] != vw[q]
                     and src[p][0] >= 0 and src[q][0] >= 0
                     and max(abs(src[p][0] - src[q][0]),
                             abs(src[p][1] - src[q][1])) <
                     ratio * max(cell[p], cell[q]))
            if match or (lbl[q] != IGN and lbl[q] == lbl[p]):
                pos.append(q)
            elif lbl[q] != IGN:
                neg.append(q)
        if not pos or not neg:  # no negative: constant 0, left out
            continue
        s_pos = f[pos] @ f[p] / T
        neg_sum = (f[neg] @ f[p] / T).exp().sum()
        total = total + (-(s_pos.exp() / (s_pos.exp() + neg_sum)).log()
                         ).mean()
        count += 1
    return total / max(count, 1)


def test_cell_size_of_each_view():
    embed, aux, coord, image_id, view = _batch()
    c = F.interpolate(coord, size=(4, 4), mode='nearest')
    torch.testing.assert_close(cell_size(c), torch.tensor([2., 2., 4., 4.]))


@pytest.mark.parametrize('use_views', [True, False])
@pytest.mark.parametrize('T', [0.1, 0.5])
def test_loss_equals_brute_force(use_views, T):
    """Positives: same aux label anywhere, or the same source pixel of the
    image in the other view (even with another or no label); negatives:
    other labels in every image; outlier anchors skipped; the self pair
    excluded; temperature T."""
    embed, aux, coord, image_id, view = _batch()
    loss = AuxPixelContrastLoss(temperature=T, max_anchors=10**6,
                                view_positives=use_views, anchor_chunk=7)
    out = loss(embed, aux, coord, image_id, view)
    ref = _reference(embed, aux, coord, image_id, view, T, 0.5, use_views)
    assert ref.item() > 0
    assert out.item() == pytest.approx(ref.item(), rel=1e-5)


def test_view_positives_change_the_loss():
    embed, aux, coord, image_id, view = _batch(seed=1)
    with_views = AuxPixelContrastLoss(max_anchors=10**6)(
        embed, aux, coord, image_id, view)
    without = AuxPixelContrastLoss(max_anchors=10**6, view_positives=False)(
        embed, aux, coord, image_id, view)
    assert abs(with_views.item() - without.item()) > 1e-3


def test_match_ratio_is_the_cell_radius():
    """At ratio 0.5 a view-0 cell matches the view-1 cell that covers it;
    a ratio of 0 matches nothing (the loss equals view_positives=False)."""
    embed, aux, coord, image_id, view = _batch(seed=2)
    none = AuxPixelContrastLoss(max_anchors=10**6, match_ratio=0.0)(
        embed, aux, coord, image_id, view)
    off = AuxPixelContrastLoss(max_anchors=10**6, view_positives=False)(
        embed, aux, coord, image_id, view)
    assert none.item() == pytest.approx(off.item(), rel=1e-6)
    wide = AuxPixelContrastLoss(max_anchors=10**6, match_ratio=1.5)(
        embed, aux, coord, image_id, view)
    ref = _reference(embed, aux, coord, image_id, view, 0.07, 1.5, True)
    assert wide.item() == pytest.approx(ref.item(), rel=1e-5)


def test_gradient_flows_and_anchor_sampling_is_bounded():
    embed, aux, coord, image_id, view = _batch()
    embed.requires_grad_(True)
    loss = AuxPixelContrastLoss(max_anchors=5, anchor_chunk=2)
    g = torch.Generator().manual_seed(0)
    out = loss(embed, aux, coord, image_id, view, generator=g)
    out.backward()
    assert torch.isfinite(embed.grad).all() and embed.grad.abs().sum() > 0


def test_all_outliers_gives_zero_with_a_warning():
    embed, aux, coord, image_id, view = _batch()
    aux[:] = IGN
    with pytest.warns(UserWarning, match='no pixel'):
        out = AuxPixelContrastLoss()(embed, aux, coord, image_id, view)
    assert out.item() == 0.0


def test_out_of_range_aux_label_is_an_error():
    embed, aux, coord, image_id, view = _batch()
    aux[1, 0, 0] = 7
    with pytest.raises(ValueError, match=r'\[7\]'):
        AuxPixelContrastLoss(num_aux=3)(embed, aux, coord, image_id, view)
    with pytest.raises(ValueError, match='view_positives needs'):
        AuxPixelContrastLoss()(embed, aux)


def _dist_worker(rank, world, init_file, out_dir):
    import torch.distributed as dist
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=world)
    embed, aux, coord, image_id, view = _batch(n_img=4)
    # rank r holds images 2r, 2r+1 (both views), local ids 0, 1
    rows = [i for i in range(8) if (i % 4) // 2 == rank]
    e = embed[rows].clone().requires_grad_(True)
    out = AuxPixelContrastLoss(max_anchors=10**6, anchor_chunk=5)(
        e, aux[rows], coord[rows], image_id[rows] % 2, view[rows])
    out.backward()
    torch.save(dict(loss=out.detach(), grad=e.grad),
               f'{out_dir}/aux_{rank}.pth')
    dist.destroy_process_group()


def test_two_gloo_processes_contrast_with_every_rank():
    """Each rank's anchors are contrasted with the pixels of both ranks:
    its loss equals the brute force over the union with its own anchors;
    the two views of an image match only on their own rank."""
    import tempfile

    import torch.multiprocessing as mp
    with tempfile.TemporaryDirectory() as tmp:
        mp.spawn(_dist_worker, args=(2, f'{tmp}/init', tmp), nprocs=2)
        res = [torch.load(f'{tmp}/aux_{r}.pth') for r in range(2)]
    embed, aux, coord, image_id, view = _batch(n_img=4)
    hw = 16
    for rank in range(2):
        rows = [i for i in range(8) if (i % 4) // 2 == rank]
        other = [i for i in range(8) if i not in rows]
        order = rows + other  # own rank first: anchor positions 0..
        e = embed[order].clone().requires_grad_(True)
        ref = _reference(e, aux[order], coord[order], image_id[order],
                         view[order], 0.07, 0.5, True,
                         anchors=range(len(rows) * hw))
        ref.backward()
        assert res[rank]['loss'].item() == pytest.approx(ref.item(),
                                                         rel=1e-5)
        # own pixels get the gradient as anchors and as contrast entries
        torch.testing.assert_close(res[rank]['grad'],
                                   e.grad[:len(rows)].float(),
                                   rtol=1e-4, atol=1e-6)


def test_anchors_without_negatives_are_left_out():
    """One label everywhere: no anchor has a negative, every term is 0 and
    none counts; one pixel of another label gives the others a negative."""
    embed, aux, coord, image_id, view = _batch()
    aux[:] = 1
    loss = AuxPixelContrastLoss(max_anchors=10**6)
    assert loss(embed, aux, coord, image_id, view).item() == 0.0
    aux[0, 0, 0] = 2
    out = loss(embed, aux, coord, image_id, view)
    ref = _reference(embed, aux, coord, image_id, view, 0.07, 0.5, True)
    assert out.item() == pytest.approx(ref.item(), rel=1e-5) and out > 0
