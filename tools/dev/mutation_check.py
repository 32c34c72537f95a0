# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Plant semantic bugs one at a time and check that the tests catch them.

Each mutation flips one decision that makes a method *that* method (a
temperature, a softmax axis, which tensor is enqueued, which pairs are
negatives, ...). It is applied to the source file as an exact text
replacement (which must match once), the tests that cover it run, and the
file is restored. A mutation the tests do not catch ("SURVIVED") is a
missing test.

    python tools/dev/mutation_check.py                 # all, table on stdout
    python tools/dev/mutation_check.py --only cp2-     # ids starting so
    python tools/dev/mutation_check.py --check         # patterns match once?
    python tools/dev/mutation_check.py --out work_dirs/mutation.md

Exit status: 0 when every mutation is caught, 1 otherwise.
"""
import argparse
import os
import os.path as osp
import subprocess
import sys
import time
from typing import List, NamedTuple, Tuple

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

CP2 = 'cp2_mmseg/models/selfsup/cp2.py'
CP2_LOSS = 'cp2_mmseg/models/losses/cp2_loss.py'
COPY_PASTE = 'cp2_mmseg/datasets/transforms/copy_paste.py'
CP_DATASET = 'cp2_mmseg/datasets/copy_paste_dataset.py'
PCL = 'cp2_mmseg/models/losses/pixel_contrast_loss.py'
BANK = 'cp2_mmseg/models/utils/cross_image_memory_bank.py'
MEMC = 'cp2_mmseg/models/utils/memory_contrast.py'
MINING = 'cp2_mmseg/models/utils/semi_hard_mining.py'
HEAD_MIXIN = 'cp2_mmseg/models/decode_heads/contrast_head_mixin.py'
PROJ = 'cp2_mmseg/models/utils/projection_head.py'
SPC = 'cp2_mmseg/models/losses/supervised_pixel_contrast_loss.py'
LC_MIXIN = 'cp2_mmseg/models/decode_heads/label_contrast_head_mixin.py'
LC_SEG = 'cp2_mmseg/models/segmentors/label_contrast_encoder_decoder.py'
JITTER = 'cp2_mmseg/models/utils/photometric_jitter.py'
CONVERT = 'cp2_mmseg/models/utils/cp2_checkpoint.py'
BACKBONE = 'cp2_mmseg/models/utils/pretrained_backbone.py'
KMEANS = 'cp2_mmseg/aux_labels/kmeans.py'
QUALITY = 'cp2_mmseg/aux_labels/quality.py'
T_KMEANS = 'tests/test_aux_labels/test_kmeans.py'
DBSCAN = 'cp2_mmseg/aux_labels/dbscan.py'
T_DBSCAN = 'tests/test_aux_labels/test_dbscan.py'
GENERATE = 'cp2_mmseg/aux_labels/generate.py'
T_GEN = 'tests/test_tools/test_generate_aux_labels.py'
T_QUALITY = 'tests/test_aux_labels/test_quality.py'
CP2_BASE_CFG = 'configs/_base_/models/cp2_r50-d16-aspp.py'
PC_CONTEXT_CFG = 'configs/_base_/pixel_contrast/pascal_context.py'

T_CP2 = 'tests/test_models/test_selfsup/test_cp2.py'
T_CP2_LOSS = 'tests/test_models/test_losses/test_cp2_loss.py'
T_CP = 'tests/test_datasets/test_transforms/test_copy_paste.py'
T_PCL = 'tests/test_models/test_losses/test_pixel_contrast_loss.py'
T_BANK = 'tests/test_models/test_utils/test_cross_image_memory_bank.py'
T_MINING = 'tests/test_models/test_utils/test_semi_hard_mining.py'
T_HEADS = 'tests/test_models/test_decode_heads/test_contrast_heads.py'
T_SPC = 'tests/test_models/test_losses/test_supervised_pixel_contrast_loss.py'
T_LCED = ('tests/test_models/test_segmentors/'
          'test_label_contrast_encoder_decoder.py')
T_CONVERT = 'tests/test_models/test_utils/test_cp2_checkpoint.py'
T_BACKBONE = 'tests/test_models/test_utils/test_pretrained_backbone.py'
T_PROJ = 'tests/test_models/test_utils/test_projection_head.py'
AUXL = 'cp2_mmseg/models/losses/aux_pixel_contrast_loss.py'
AUXPRE = 'cp2_mmseg/models/data_preprocessors/aux_view_data_preprocessor.py'
AUXLOAD = 'cp2_mmseg/datasets/transforms/load_aux_label.py'
AUXCOORD = 'cp2_mmseg/datasets/transforms/add_source_coords.py'
T_AUXL = 'tests/test_models/test_losses/test_aux_pixel_contrast_loss.py'
T_TWOV = 'tests/test_datasets/test_transforms/test_two_views.py'
T_AUXSEG = ('tests/test_models/test_segmentors/'
            'test_aux_contrast_encoder_decoder.py')


class Mutation(NamedTuple):
    """``old`` -> ``new`` in ``file``; ``old`` may instead be a tuple
    (old1, new1, old2, new2, ...) of edits with ``new`` None."""
    id: str
    file: str
    old: object
    new: object
    what: str
    tests: Tuple[str, ...]


M = Mutation
MUTATIONS: List[Mutation] = [
    # ---------------------------------------------------------------- CP2
    M('cp2-ins-temperature', CP2, 'temperature: float = 0.2,',
      'temperature: float = 0.1,', 'instance temperature 0.2 -> 0.1',
      (T_CP2, )),
    M('cp2-dense-temperature', CP2, 'dense_temperature: float = 1.0,',
      'dense_temperature: float = 0.5,', 'dense temperature 1 -> 0.5',
      (T_CP2, )),
    M('cp2-dense-weight', CP2, 'dense_weight: float = 0.2,',
      'dense_weight: float = 1.0,', 'dense loss weight 0.2 -> 1',
      (T_CP2, )),
    M('cp2-dense-axis-default', CP2, "dense_softmax_over: str = 'query',",
      "dense_softmax_over: str = 'key',",
      'dense softmax over key pixels by default', (T_CP2, )),
    M('cp2-dense-axis', CP2_LOSS,
      "dim=1 if softmax_over == 'query' else 2",
      "dim=2 if softmax_over == 'query' else 1",
      'dense log-softmax axis swapped', (T_CP2_LOSS, )),
    M('cp2-dense-pairs', CP2_LOSS,
      'pair = mask_q.float().unsqueeze(2) * mask_k.float().unsqueeze(1)',
      'pair = mask_q.float().unsqueeze(2) * torch.ones_like('
      'mask_k.float()).unsqueeze(1)',
      'dense positives: background key pixels become anchors',
      (T_CP2_LOSS, )),
    M('cp2-enqueue-query', CP2, 'self._dequeue_and_enqueue(k_pool[valid])',
      'self._dequeue_and_enqueue(q_pool[valid].detach())',
      'the queue is fed query instead of key embeddings', (T_CP2, )),
    M('cp2-enqueue-before-loss', CP2,
      ('        ins, ins_hit = cp2_instance_loss(q_pool, k_pool,\n',
       '        self._dequeue_and_enqueue(k_pool[valid])\n'
       '        ins, ins_hit = cp2_instance_loss(q_pool, k_pool,\n',
       '        self._dequeue_and_enqueue(k_pool[valid])\n        vf =',
       '        vf ='),
      None, 'this batch is enqueued before the loss reads the queue',
      (T_CP2, )),
    M('cp2-queue-ptr', CP2, 'self.queue_ptr[0] = (ptr + n) % self.queue_len',
      'self.queue_ptr[0] = (ptr + 1) % self.queue_len',
      'queue pointer advances by 1 (official ContrastiveSeg-style bug)',
      (T_CP2, )),
    M('cp2-no-momentum-update', CP2,
      'torch._foreach_lerp_(k_params, q_params, ema.momentum)',
      'pass', 'key encoder never follows the query', (T_CP2, )),
    M('cp2-momentum-swapped', CP2,
      'torch._foreach_lerp_(k_params, q_params, ema.momentum)',
      'torch._foreach_lerp_(k_params, q_params, 1 - ema.momentum)',
      'm and 1 - m swapped (key = mostly the query)', (T_CP2, )),
    M('cp2-pool-unmasked', CP2_LOSS,
      "torch.einsum('ncp,np->nc', feats, mask.to(feats.dtype))",
      "torch.einsum('ncp,np->nc', feats, torch.ones_like(mask).to("
      'feats.dtype))', 'instance embedding pooled over the whole image',
      (T_CP2_LOSS, )),
    M('cp2-mask-cell-corner', CP2,
      'rows = ((torch.arange(h, device=mask.device) + 0.5) * height / h)',
      'rows = ((torch.arange(h, device=mask.device) + 0.0) * height / h)',
      'masks sampled at the top-left of each cell, not its centre',
      (T_CP2, )),
    M('cp2-no-shuffle-bn', CP2, '        if get_world_size() > 1:\n'
      '            im_k, idx_unshuffle',
      '        if get_world_size() > 99:\n            im_k, idx_unshuffle',
      'no shuffle BN under DDP', (T_CP2 + '::test_shuffle_bn_two_gloo_'
                                  'processes', )),
    M('cp2-no-unshuffle', CP2,
      '            return batch_unshuffle_ddp(k, idx_unshuffle)',
      '            return k', 'keys not returned to their images',
      (T_CP2 + '::test_shuffle_bn_two_gloo_processes', )),
    M('cp2-same-box', COPY_PASTE,
      '            top, left, h, w = self.sample_box(height, width)',
      '            top, left, h, w = boxes[0] if boxes else '
      'self.sample_box(height, width)',
      'one paste box reused for both composites', (T_CP, )),
    M('cp2-same-fg-view', COPY_PASTE, '            fg_view = self._view(fg)',
      '            fg_view = fg_views[0] if fg_views else self._view(fg)',
      'one foreground view for both composites', (T_CP, )),
    M('cp2-same-background', COPY_PASTE, '        for bg_results in mix[:2]:',
      '        for bg_results in [mix[0], mix[0]]:',
      'one background image for both composites', (T_CP, )),
    M('cp2-bg-may-be-fg', CP_DATASET, 'return [int(j + (j >= idx)) for j in '
      'draws]', 'return [int(j) for j in draws]',
      'the foreground image can be its own background', (T_CP, )),
    M('cp2-paste-other-coords', COPY_PASTE,
      'comp[top:top + h, left:left + w] = fg_view[top:top + h,',
      'comp[top:top + h, left:left + w] = fg_view[0:h,',
      'foreground pixels pasted from other coordinates', (T_CP, )),
    M('cp2-equal-size-gather', CP2,
      'keys = all_gather_cat(keys.contiguous())',
      'keys = torch.cat(all_gather(keys), dim=0)',
      'enqueue gather needs equal sizes on every rank (the old bug)',
      (T_CP2 + '::test_unequal_valid_counts_two_gloo_processes', )),
    M('cp2-raise-on-one-rank', CP2,
      ('        empty = all_gather(\n'
       '            torch.tensor([int(not valid.any())], device=q.device))\n',
       '        empty = [torch.tensor([int(not valid.any())])]\n'),
      None, 'an empty batch raises on its own rank only (the old bug)',
      (T_CP2 + '::test_unequal_valid_counts_two_gloo_processes', )),
    M('cp2-config-syncbn', CP2_BASE_CFG,
      "norm_cfg = dict(type='BN', requires_grad=True)",
      "norm_cfg = dict(type='SyncBN', requires_grad=True)",
      'pretraining configs with SyncBN: shuffle BN a no-op (the old bug)',
      (T_CP2 + '::test_cp2_pretraining_configs_use_plain_bn', )),
    M('cp2-config-ddp-unused', CP2_BASE_CFG,
      'find_unused_parameters = True', 'find_unused_parameters = False',
      'DDP waits for the unused conv_seg (multi-process CP2 fails)',
      ('tests/test_tools/test_cp2_tools.py::test_cp2_dist_train_two_gloo_'
       'processes', )),
    M('pc-config-context-tau', PC_CONTEXT_CFG,
      'loss_contrast = dict(temperature=0.07, base_temperature=0.07)',
      'loss_contrast = dict(temperature=0.1, base_temperature=0.07)',
      'PASCAL-Context with the Cityscapes tau (the old configs)',
      ('tests/test_configs.py::test_contrast_config_values_per_data_set', )),
    # -------------------------------------------------------- pixel contrast
    M('pc-scale', PCL, 'scale = self.temperature / self.base_temperature',
      'scale = 1.0', 'no tau / tau_base scaling', (T_PCL, )),
    M('pc-temperature-default', PCL, 'temperature: float = 0.1,',
      'temperature: float = 0.07,', 'default tau 0.1 -> 0.07', (T_PCL, )),
    M('pc-self-positive', PCL, 'pos_masks.append(same & ~eye)',
      'pos_masks.append(same)', 'an anchor is its own positive', (T_PCL, )),
    M('pc-negatives-any', PCL,
      'neg_lse.append(masked_logsumexp(sim, ~same, dim=1))',
      'neg_lse.append(masked_logsumexp(sim, ~eye, dim=1))',
      'negatives include same-class anchors', (T_PCL, )),
    M('pc-hard-easy-swap', PCL,
      'hard = (preds.reshape(-1)[pix] != cls).long()',
      'hard = (preds.reshape(-1)[pix] == cls).long()',
      'hard and easy anchors swapped', (T_PCL, )),
    M('pc-gt-pred-swap', PCL, 'flat_lbl = labels.reshape(-1)',
      'flat_lbl = preds.reshape(-1)',
      'classes of anchors taken from the prediction, not the GT',
      (T_PCL, )),
    M('pc-min-pixels', PCL, 'chosen = counts > min_pixels',
      'chosen = counts > 0', 'every (image, class) sampled, however small',
      (T_PCL, )),
    M('pc-memory-empty-slots', PCL,
      'pos_masks.append(memory_valid[anchor_labels])',
      'pos_masks.append(torch.ones_like(memory_valid[anchor_labels]))',
      'empty memory slots used as positives', (T_PCL, )),
    M('pc-update-before-loss', PCL, '            if self._in_warmup():',
      '            if self.memory_bank is not None and self.training:\n'
      '                self.memory_bank.update(feats.detach(), labels)\n'
      '            if self._in_warmup():',
      'the memory holds this batch before the loss reads it', (T_PCL, )),
    M('pc-warmup-off-by-one', PCL, 'return it < self.warmup_iters',
      'return it <= self.warmup_iters', 'warm-up one iteration longer',
      (T_PCL, )),
    M('pc-label-bilinear', PCL, "mode='nearest').squeeze(1).long()",
      "mode='bilinear').squeeze(1).long()",
      'labels resized bilinearly (mixed classes)', (T_PCL, )),
    M('bank-ptr-by-one', BANK, 'ptr.copy_((ptr + counts) % size)',
      'ptr.copy_((ptr + (counts > 0).long()) % size)',
      'class pointer advances by 1 (official bug)', (T_BANK, )),
    M('bank-skip-class0', BANK,
      "pix = (lbl != self.ignore_index).nonzero(as_tuple=True)[0]",
      "pix = ((lbl != self.ignore_index) & (lbl > 0)).nonzero("
      'as_tuple=True)[0]', 'class 0 never stored (official bug)',
      (T_BANK, )),
    M('bank-region-unnormalised', BANK,
      'region_entries = F.normalize(sums[present], dim=1)',
      'region_entries = sums[present]', 'region entries not L2-normalised',
      (T_BANK, )),
    M('bank-no-gather', BANK, 'pixel_entries = all_gather_cat(pixel_entries)',
      'pixel_entries = pixel_entries', 'pixel entries not gathered across '
      'ranks', (T_BANK, )),
    M('bank-pixels-per-image', BANK, 'sel = order[rank < self.pixels_per_image]',
      'sel = order[rank <= self.pixels_per_image]',
      'V + 1 pixels stored per (image, class)', (T_BANK, )),
    M('bank-live-buffer', BANK, 'return parts[0].clone(), masks[0]',
      'return parts[0], masks[0]',
      'a one-part memory aliases the live queue', (T_PCL, )),
    M('memc-own-class', MEMC,
      'own_sim[rows] = sim[rows, labels[rows] - c0]',
      'own_sim[rows] = sim[rows, (labels[rows] - c0 + 1) % (c1 - c0)]',
      'memory positives taken from another class', (T_PCL, )),
    M('mining-far-negatives', MINING, '& (sims >= neg_thr[:, None])),',
      '& (sims <= neg_thr[:, None])),',
      'semi-hard keeps the farthest negatives, not the nearest',
      (T_MINING, )),
    M('mining-near-positives', MINING,
      'own_ok = valid[labels] & (own <= pos_thr[:, None])',
      'own_ok = valid[labels] & (own >= pos_thr[:, None])',
      'semi-hard keeps the nearest positives, not the farthest',
      (T_MINING, )),
    M('mining-pool-far-negatives', MINING,
      'near, near_pos = sims.topk(k_max, dim=1, sorted=True)',
      'near, near_pos = sims.topk(k_max, dim=1, sorted=True, largest=False)',
      'pooled semi-hard keeps the farthest negatives', (T_MINING, )),
    M('mining-pool-near-positives', MINING,
      'min(k_pmax, num_t), dim=1, largest=False, sorted=True)',
      'min(k_pmax, num_t), dim=1, largest=True, sorted=True)',
      'pooled semi-hard keeps the nearest positives', (T_MINING, )),
    M('mining-pool-own-class-negative', MINING,
      'other = labels[:, None] != (pool // num_t)[None]',
      'other = labels[:, None] >= 0',
      "pooled negatives include the anchor's own class", (T_MINING, )),
    M('mining-own-grad-order', MINING, '        padded[lbl, rank] = dense[order]',
      '        padded[lbl, rank] = dense',
      'positive gradients sent to the wrong anchors', (T_MINING, )),
    M('memc-keep-offset', MEMC,
      'prob.sub_(offset[:, c0:c1, None]).exp_()',
      'prob.sub_(offset[:, c0:c1, None] + 1e-2).exp_()',
      'kept-similarity backward off by a constant', (T_PCL, )),
    M('mining-hardest-order', MINING, 'keys = torch.neg(sims)',
      'keys = sims', "'hardest' keeps the farthest negatives", (T_MINING, )),
    M('pc-global-budget-ignored', PCL, '            total_pairs = int(count.item())',
      '            total_pairs = None',
      'global anchor budget computed per process', (T_PCL, )),
    M('pc-global-budget-split', PCL,
      '        budget = max(1, round(max_samples * num_pairs / total_pairs))',
      '        budget = max_samples',
      'more pairs than budget: every process takes the whole budget',
      (T_PCL, )),
    M('memc-no-max-shift', MEMC, 'NO_SHIFT_MAX_INV_TAU = 60.0',
      'NO_SHIFT_MAX_INV_TAU = 1000.0',
      'exp without max shift at small tau (float32 overflow)', (T_PCL, )),
    M('memc-upstream-grad-dropped', MEMC,
      '            if not log_weight:\n                prob.mul_(',
      '            if False:\n                prob.mul_(',
      'upstream gradients of either sign not applied', (T_PCL, )),
    M('proj-no-normalise', PROJ, 'return F.normalize(self.proj(x), p=2, dim=1)',
      'return self.proj(x)', 'embeddings not L2-normalised', (T_PROJ, )),
    M('head-proj-input', HEAD_MIXIN,
      'embed = self.projection(self._transform_inputs(inputs))',
      'embed = self.projection(self._transform_inputs(inputs).detach())',
      'contrast gradient does not reach the backbone', (T_HEADS, )),
    # ----------------------------------------------------- label-efficient
    M('spc-temperature', SPC, 'temperature: float = 0.07,',
      'temperature: float = 0.1,', 'default T 0.07 -> 0.1', (T_SPC, )),
    M('spc-mode-default', SPC, "mode: str = 'cross',", "mode: str = 'within',",
      'default form within instead of cross', (T_SPC, )),
    M('spc-negatives-any-image', SPC,
      'neg = ~same & valid & (a_grp[:, :, None] == grp[:, None])',
      'neg = ~same & valid', 'cross form: negatives from both images '
      '(the official code takes the own image only)', (T_SPC, )),
    M('spc-exclude-self', SPC, 'exclude_self: bool = False,',
      'exclude_self: bool = True,', 'self pair dropped by default',
      (T_SPC, )),
    M('spc-ignore', SPC, 'pos = same & valid',
      'pos = same', 'ignored pixels become positives', (T_SPC, )),
    M('spc-proj-order', LC_MIXIN, 'project_after_resize: bool = True,',
      'project_after_resize: bool = False,',
      'project then resize (not the official order)', (T_LCED, )),
    # ------------------------------------------------- auxiliary labels
    M('aux-kmeans-local-seeding', KMEANS,
      '    idx = torch.randperm(total, generator=generator)[:num].sort()[0]',
      '    idx = torch.randperm(total, generator=generator)[:num].sort()[0]'
      '[:max(1, num // dist.get_world_size())]',
      'k-means++ seeds depend on the number of processes', (T_KMEANS, )),
    M('aux-kmeans-no-allreduce', KMEANS,
      '        _all_sum(sums), _all_sum(counts), _all_sum(inertia)',
      '        _all_sum(inertia)',
      'centroids from this rank only', (T_KMEANS, )),
    M('aux-dbscan-core-excludes-self', DBSCAN,
      '    degree = torch.bincount(edges[0], minlength=n) + 1  # + the point',
      '    degree = torch.bincount(edges[0], minlength=n)',
      'DBSCAN core count without the point itself', (T_DBSCAN, )),
    M('aux-dbscan-border-links', DBSCAN,
      '    core_edge = core[edges[0]] & core[edges[1]]',
      '    core_edge = core[edges[0]] | core[edges[1]]',
      'DBSCAN chains clusters through border points', (T_DBSCAN, )),
    M('aux-dbscan-border-radius', DBSCAN,
      '        lab[d > float(eps)**2] = -1\n        labels[border] = lab',
      '        labels[border] = lab',
      'DBSCAN border points beyond eps join a cluster', (T_DBSCAN, )),
    M('aux-gen-interleaved-shards', GENERATE,
      '    mine = range(len(dataset) * rank // world,\n'
      '                 len(dataset) * (rank + 1) // world)',
      '    mine = range(rank, len(dataset), world)',
      'processes take interleaved images: the fit sample order depends on '
      'the process count', (T_GEN, )),
    M('aux-outlier-share', KMEANS,
      '    n_out = torch.floor(counts.double() * ratio).long()',
      '    n_out = torch.ceil(counts.double() * ratio).long() + 1',
      'outlier filter removes more than the configured share',
      (T_KMEANS, )),
    M('aux-fnr-a', QUALITY, 'n * (m_c[None] - n) / rest[:, None]',
      'n * m_c[None] / rest[:, None]',
      'anchor-averaged FNR counts the anchor class wrongly', (T_QUALITY, )),
    M('aux-cross-image', QUALITY,
      'tp_x = float((n**2).sum() - np.asarray(sq_table).sum())',
      'tp_x = float((n**2).sum())',
      'cross-image positives include within-image pairs', (T_QUALITY, )),
    # ---------------------------------------------------------- conversion
    M('convert-keep-head-extras', CONVERT,
      '            if sub.startswith(HEAD_KEYS):',
      '            if True:',
      'conv_seg / contrast_conv kept in the fine-tuning init',
      (T_CONVERT, )),
    M('convert-key-encoder-weights', CONVERT,
      "            k = k[len('encoder_q.'):]",
      "            k = k.replace('encoder_q.', 'encoder_k.')",
      'official query weights treated as the key encoder (dropped)',
      (T_CONVERT, )),
    M('convert-vit-no-rename', CONVERT,
      '            if sub.startswith(VIT_TIMM_KEYS):',
      '            if False:',
      'official ViT keys under backbone. kept in timm names',
      (T_CONVERT, )),
    M('vit-heads-unchecked', BACKBONE,
      '    check_vit_heads(backbone, checkpoint, filename, family)\n',
      '', 'ViT head count not checked against the family', (T_BACKBONE, )),
    # ------------------------------------------- beyond single images (aux)
    M('aux-neg-same-label', AUXL, '    neg = ~same & lab_ok & ~match\n',
      '    neg = lab_ok & ~match\n', 'same-label pixels also negatives',
      (T_AUXL, )),
    M('aux-self-positive', AUXL,
      '    pos = ((same & lab_ok) | match) & not_self',
      '    pos = ((same & lab_ok) | match)', 'the self pair is a positive',
      (T_AUXL, )),
    M('aux-neg-includes-match', AUXL, '    neg = ~same & lab_ok & ~match\n',
      '    neg = ~same & lab_ok\n', 'view matches with another label are '
      'also negatives', (T_AUXL, )),
    M('aux-match-any-view', AUXL,
      '(local_view[:, None] != local_view[None])',
      '(local_view[:, None] >= 0)', 'view matches searched in the same view',
      (T_AUXL, )),
    M('aux-outlier-anchors', AUXL,
      'valid = (lbl != self.ignore_index).nonzero().squeeze(1)',
      'valid = torch.arange(lbl.numel(), device=device)',
      'outliers sampled as anchors', (T_AUXL, )),
    M('aux-gather-no-grad', AUXL, '    parts[rank] = local\n', '',
      "the process's own contrast rows lose their gradient", (T_AUXL, )),
    M('aux-match-radius', AUXL,
      'radius = ratio * torch.maximum(a_cell[:, None], local_cell[c])',
      'radius = ratio * torch.minimum(a_cell[:, None], local_cell[c])',
      'match radius of the finer view', (T_AUXL, )),
    M('aux-pre-view-order', AUXPRE,
      'sample.set_metainfo(dict(view=view, view_group=row))',
      'sample.set_metainfo(dict(view=row, view_group=view))',
      'views and samples swapped', (T_TWOV, T_AUXSEG)),
    M('aux-pre-coord-pad', AUXPRE, "('gt_src_coord', -1.)",
      "('gt_src_coord', 0.)", 'padding gets source pixel (0, 0)',
      (T_TWOV, )),
    M('aux-label-not-moved', AUXLOAD,
      "            fields.append('gt_aux_label')",
      '            pass', 'aux label not moved by resize / crop / flip',
      (T_TWOV, )),
    M('aux-coord-xy', AUXCOORD, 'np.stack([ys, xs], axis=2)',
      'np.stack([xs, ys], axis=2)', 'coordinates stored as (x, y)',
      (T_TWOV, )),
]


def apply(m: Mutation) -> str:
    path = osp.join(REPO, m.file)
    with open(path) as f:
        text = f.read()
    edits = list(zip(m.old[::2], m.old[1::2])) if isinstance(
        m.old, tuple) else [(m.old, m.new)]
    mutated = text
    for old, new in edits:
        count = mutated.count(old)
        if count != 1:
            raise RuntimeError(f'{m.id}: pattern found {count} times in '
                               f'{m.file}: {old!r}')
        mutated = mutated.replace(old, new)
    with open(path, 'w') as f:
        f.write(mutated)
    return text


def run_tests(tests, timeout: int) -> Tuple[bool, float, str]:
    """(caught, seconds, last line of pytest's output)."""
    start = time.time()
    cmd = [sys.executable, '-m', 'pytest', '-x', '-q', '-p',
           'no:cacheprovider', *tests]
    try:
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True,
                              timeout=timeout)
        lines = (proc.stdout + proc.stderr).strip().splitlines()
        return proc.returncode != 0, time.time() - start, (
            lines[-1] if lines else '')
    except subprocess.TimeoutExpired:
        return True, time.time() - start, f'timeout after {timeout}s'


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--only', default='', help='id prefix')
    parser.add_argument('--check', action='store_true',
                        help='only check that every pattern matches once')
    parser.add_argument('--timeout', type=int, default=600)
    parser.add_argument('--out', help='also write the table here (markdown)')
    args = parser.parse_args()
    chosen = [m for m in MUTATIONS if m.id.startswith(args.only)]
    if args.check:
        for m in chosen:
            text = apply(m)
            with open(osp.join(REPO, m.file), 'w') as f:
                f.write(text)
        print(f'{len(chosen)} patterns match exactly once')
        return 0
    rows = []
    for i, m in enumerate(chosen, 1):
        original = apply(m)
        try:
            caught, secs, last = run_tests(m.tests, args.timeout)
        finally:
            with open(osp.join(REPO, m.file), 'w') as f:
                f.write(original)
        status = 'caught' if caught else 'SURVIVED'
        rows.append((m, status, secs, last))
        print(f'[{i}/{len(chosen)}] {status:8s} {m.id}: {m.what} '
              f'({secs:.0f}s; {last})', flush=True)
    caught = sum(r[1] == 'caught' for r in rows)
    table = ['| mutation | what it plants | tests run | result |',
             '|---|---|---|---|']
    for m, status, secs, _ in rows:
        tests = ', '.join(osp.basename(t) for t in m.tests)
        table.append(f'| `{m.id}` | {m.what} | {tests} | {status} '
                     f'({secs:.0f} s) |')
    summary = f'{caught} of {len(rows)} planted mutations caught'
    print('\n'.join(table) + '\n\n' + summary)
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            f.write('\n'.join(table) + '\n\n' + summary + '\n')
    return 0 if caught == len(rows) else 1


if __name__ == '__main__':
    sys.exit(main())
