import os
import os.path as osp

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

from cp2_mmseg.models import CrossImageMemoryBank, pixel_contrast_terms


def one_hot_entries(values, dim=4):
    """Distinguishable unit vectors: entry k points along axis k % dim with
    the value k encoded in its sign pattern via a second coordinate."""
    e = torch.zeros(len(values), dim)
    for i, v in enumerate(values):
        e[i, 0] = 1.0
        e[i, 1] = float(v)
    return e


def test_fifo_wraparound_pointers_and_filled():
    bank = CrossImageMemoryBank(num_classes=3, feat_dim=4, pixel_size=4,
                                region_size=0)
    e = torch.arange(1, 7, dtype=torch.float)[:, None].repeat(1, 4)
    bank._enqueue('pixel', e[:3], torch.tensor([0, 0, 2]))
    assert bank.pixel_ptr.tolist() == [2, 0, 1]
    assert bank.pixel_filled.tolist() == [2, 0, 1]
    assert bank.pixel_queue[0, :2, 0].tolist() == [1, 2]
    # 3 more for class 0: slots 2, 3, then wrap to 0
    bank._enqueue('pixel', e[3:], torch.tensor([0, 0, 0]))
    assert bank.pixel_ptr.tolist() == [1, 0, 1]
    assert bank.pixel_filled.tolist() == [4, 0, 1]
    assert bank.pixel_queue[0, :, 0].tolist() == [6, 2, 4, 5]
    # more than the queue holds in one write: the newest 4 survive, in order
    many = torch.arange(10, 16, dtype=torch.float)[:, None].repeat(1, 4)
    bank._enqueue('pixel', many, torch.ones(6, dtype=torch.long))
    assert bank.pixel_filled[1] == 4 and bank.pixel_ptr[1] == 2
    assert sorted(bank.pixel_queue[1, :, 0].tolist()) == [12, 13, 14, 15]
    assert bank.pixel_queue[1, 2, 0] == 12  # oldest survivor at the pointer
    _, valid = bank.contrast_set()
    assert valid.sum(1).tolist() == [4, 4, 1]


def test_update_pixels_and_regions_every_class_including_zero():
    bank = CrossImageMemoryBank(num_classes=3, feat_dim=4, pixel_size=50,
                                region_size=10, pixels_per_image=3)
    embed = torch.randn(2, 4, 5, 5)
    labels = torch.zeros(2, 5, 5, dtype=torch.long)
    labels[0, :, 3:] = 2
    labels[1, 0, 0] = 255
    labels[1, 1:3] = 1
    bank.update(embed, labels)
    # pixels: image 0 -> classes 0, 2; image 1 -> classes 0, 1 (3 each)
    assert bank.pixel_filled.tolist() == [6, 3, 3]
    assert bank.region_filled.tolist() == [2, 1, 1]
    # region entry = normalised mean embedding of that class in that image
    m0 = F.normalize(embed[0].permute(1, 2, 0)[labels[0] == 2].mean(0), dim=0)
    assert torch.allclose(bank.region_queue[2, 0], m0, atol=1e-6)
    # stored pixels are normalised copies of pixels of that class
    flat = F.normalize(embed.permute(0, 2, 3, 1).reshape(-1, 4), dim=1)
    lbl = labels.reshape(-1)
    for c in range(3):
        for v in bank.pixel_queue[c, :bank.pixel_filled[c]]:
            hit = (flat - v).abs().sum(1) < 1e-6
            assert hit.any() and (lbl[hit] == c).all()


def test_unwritten_slots_never_read():
    """Garbage in empty slots changes nothing: only filled slots count."""
    torch.manual_seed(0)
    bank = CrossImageMemoryBank(num_classes=2, feat_dim=4, pixel_size=6,
                                region_size=0)
    bank._enqueue('pixel', F.normalize(torch.randn(3, 4), dim=1),
                  torch.tensor([0, 1, 1]))
    anchors = F.normalize(torch.randn(8, 4), dim=1)
    labels = torch.tensor([0, 1] * 4)
    mem, valid = bank.contrast_set()
    ref = pixel_contrast_terms(anchors, labels, 0.1, False, mem, valid)
    bank.pixel_queue[:, 3:] = anchors[0]  # garbage in unwritten slots
    bank.pixel_queue[0, 1:] = -anchors[1]
    mem, valid = bank.contrast_set()
    got = pixel_contrast_terms(anchors, labels, 0.1, False, mem, valid)
    assert torch.allclose(ref[0], got[0]) and torch.equal(ref[1], got[1])


def test_state_dict_round_trip(tmp_path):
    bank = CrossImageMemoryBank(num_classes=3, feat_dim=4, pixel_size=5,
                                region_size=2)
    bank.update(torch.randn(2, 4, 6, 6), torch.randint(0, 3, (2, 6, 6)))
    path = str(tmp_path / 'bank.pth')
    torch.save(dict(state_dict=bank.state_dict()), path)
    other = CrossImageMemoryBank(num_classes=3, feat_dim=4, pixel_size=5,
                                 region_size=2)
    other.load_state_dict(
        torch.load(path, weights_only=True)['state_dict'])
    for k, v in bank.state_dict().items():
        assert torch.equal(v, other.state_dict()[k]), k
    assert set(bank.state_dict()) == {
        'pixel_queue', 'pixel_ptr', 'pixel_filled', 'region_queue',
        'region_ptr', 'region_filled'
    }


def _worker(rank, world, init_file, out_dir):
    dist.init_process_group(
        'gloo', init_method=f'file://{init_file}', rank=rank,
        world_size=world)
    torch.manual_seed(rank)
    bank = CrossImageMemoryBank(num_classes=3, feat_dim=4, pixel_size=40,
                                region_size=8, pixels_per_image=2)
    # rank r holds only class r pixels, with its own embedding values
    embed = torch.full((1, 4, 4, 4), float(rank + 1))
    embed[:, 1] = torch.randn(4, 4)
    labels = torch.full((1, 4, 4), rank, dtype=torch.long)
    if rank == 1:  # unequal contributions: 2 images on rank 1
        embed = torch.cat([embed, embed])
        labels = torch.cat([labels, torch.full_like(labels, 2)])
    bank.update(embed, labels)
    torch.save(bank.state_dict(), osp.join(out_dir, f'rank{rank}.pth'))
    dist.destroy_process_group()


def test_two_gloo_processes_identical_banks(tmp_path):
    init_file = str(tmp_path / 'init')
    mp.spawn(_worker, args=(2, init_file, str(tmp_path)), nprocs=2)
    s0 = torch.load(str(tmp_path / 'rank0.pth'))
    s1 = torch.load(str(tmp_path / 'rank1.pth'))
    for k in s0:
        assert torch.equal(s0[k], s1[k]), k
    # both ranks' entries: class 0 from rank 0, classes 1, 2 from rank 1
    assert s0['pixel_filled'].tolist() == [2, 2, 2]
    assert s0['region_filled'].tolist() == [1, 1, 1]
