# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""A straightforward per-image / per-class loop implementation of the same
math as PixelContrastLoss + CrossImageMemoryBank (the official code's
structure, with its bugs fixed). Kept as the speed baseline of the
benchmark and checked equal to the vectorised path there."""
import torch
import torch.nn.functional as F


def loop_sample_anchors(flat, labels, preds, num_classes, ignore_index,
                        max_samples, max_views, min_pixels, hard_ratio=0.5):
    """Official ``_hard_anchor_sampling``: loops over images and classes."""
    bsz = flat.shape[0]
    pairs = []
    for b in range(bsz):
        for c in torch.unique(labels[b]).tolist():
            if c == ignore_index:
                continue
            if int((labels[b] == c).sum()) > min_pixels:
                pairs.append((b, c))
    if not pairs:
        return flat.new_zeros((0, flat.shape[2])), labels.new_zeros((0, ))
    n_view = min(max_samples // len(pairs), max_views)
    xs, ys = [], []
    for b, c in pairs:
        hard = ((labels[b] == c) & (preds[b] != c)).nonzero().view(-1)
        easy = ((labels[b] == c) & (preds[b] == c)).nonzero().view(-1)
        nh = min(len(hard), int(n_view * hard_ratio))
        ne = min(len(easy), n_view - nh)
        nh = n_view - ne
        idx = torch.cat([easy[torch.randperm(len(easy))[:ne]],
                         hard[torch.randperm(len(hard))[:nh]]])
        xs.append(flat[b, idx])
        ys.append(torch.full((len(idx), ), c, dtype=torch.long,
                             device=flat.device))
    return torch.cat(xs), torch.cat(ys)


def loop_contrast(anchors, labels, tau, base_tau, memory=None, mem_valid=None,
                  use_batch=True):
    """Official ``_contrastive``: the full masked similarity matrix."""
    feats, flabels, self_mask = [], [], []
    if use_batch:
        feats.append(anchors)
        flabels.append(labels)
    if memory is not None:
        for c in range(memory.shape[0]):  # official _sample_negative loop
            feats.append(memory[c][mem_valid[c]].float())
            flabels.append(torch.full((int(mem_valid[c].sum()), ), c,
                                      device=anchors.device))
    contrast = torch.cat(feats)
    clabels = torch.cat(flabels)
    logits = anchors @ contrast.t() / tau
    logits = logits - logits.max(1, keepdim=True)[0].detach()
    pos = (labels[:, None] == clabels[None]).float()
    neg = 1 - pos
    if use_batch:
        n = anchors.shape[0]
        pos[:, :n] -= torch.eye(n, device=anchors.device)
    neg_logits = (torch.exp(logits) * neg).sum(1, keepdim=True)
    log_prob = logits - torch.log(torch.exp(logits) + neg_logits)
    has = pos.sum(1) > 0
    mean_log_prob = (pos * log_prob).sum(1)[has] / pos.sum(1)[has]
    return -(tau / base_tau) * mean_log_prob.mean()


def loop_update(bank, embed, labels):
    """Official ``_dequeue_and_enqueue``: loops over images and classes (with
    the pointer advanced by the number written and class 0 kept)."""
    bsz, dim = embed.shape[:2]
    for b in range(bsz):
        feat = embed[b].reshape(dim, -1)
        lbl = labels[b].reshape(-1)
        for c in torch.unique(lbl).tolist():
            if c == bank.ignore_index:
                continue
            idx = (lbl == c).nonzero().view(-1)
            if bank.region_size:
                ptr = int(bank.region_ptr[c])
                bank.region_queue[c, ptr] = F.normalize(
                    feat[:, idx].mean(1), dim=0)
                bank.region_ptr[c] = (ptr + 1) % bank.region_size
                bank.region_filled[c] = min(bank.region_filled[c] + 1,
                                            bank.region_size)
            k = min(len(idx), bank.pixels_per_image)
            sel = idx[torch.randperm(len(idx))[:k]]
            for j in sel.tolist():
                ptr = int(bank.pixel_ptr[c])
                bank.pixel_queue[c, ptr] = F.normalize(feat[:, j], dim=0)
                bank.pixel_ptr[c] = (ptr + 1) % bank.pixel_size
            bank.pixel_filled[c] = min(bank.pixel_filled[c] + k,
                                       bank.pixel_size)
