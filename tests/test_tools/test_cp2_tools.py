"""CP2 end to end as a user runs it: tools/train.py on the CPU CP2 config
(unlabelled CamVid images), --resume, then tools/model_converters/
cp2_to_mmseg.py into the DeepLabV3 fine-tuning config."""
import os.path as osp

import torch

from ..conftest import PYTHON, REPO, write_camvid
from .test_train_test_tools import run

CFG = osp.join(REPO, 'configs/cp2/cp2_r18-d16-aspp_1xb16-300iter_camvid-imgs-96x96.py')
FT_CFG = osp.join(REPO, 'configs/cp2/deeplabv3_r18-d16-cp2_1xb8-2k_camvid-1-8-360x480.py')


def _opts(data_root, iters):
    return [
        '--cfg-options',
        f'train_dataloader.dataset.dataset.data_root={data_root}',
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        f'train_cfg.max_iters={iters}', 'model.queue_len=8',
        'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1',
        f'param_scheduler.0.T_max={iters}', f'param_scheduler.0.end={iters}'
    ]


def test_cp2_train_resume_convert(tmp_path):
    data = write_camvid(str(tmp_path / 'camvid'), size=(72, 96))
    work = str(tmp_path / 'work')
    out = run([PYTHON, 'tools/train.py', CFG, '--work-dir', work] +
              _opts(data, 2))
    assert 'Iter(train) [2/2]' in out
    for key in ('loss_ins', 'loss_dense', 'acc_ins', 'acc_seg'):
        assert key in out, key
    ckpt2 = torch.load(osp.join(work, 'iter_2.pth'), map_location='cpu',
                       weights_only=False)
    # resume: the queue and the key encoder come back, training goes on
    out = run([PYTHON, 'tools/train.py', CFG, '--work-dir', work,
               '--resume'] + _opts(data, 4))
    assert 'Iter(train) [3/4]' in out and 'Iter(train) [1/4]' not in out
    ckpt4 = torch.load(osp.join(work, 'iter_4.pth'), map_location='cpu',
                       weights_only=False)
    sd2, sd4 = ckpt2['state_dict'], ckpt4['state_dict']
    queue = [k for k in sd4 if k.endswith('queue')]
    assert queue and not torch.equal(sd2[queue[0]], sd4[queue[0]])
    assert int(sd4['queue_ptr']) == (int(sd2['queue_ptr']) + 2 * 2) % 8

    dst = str(tmp_path / 'converted.pth')
    out = run([PYTHON, 'tools/model_converters/cp2_to_mmseg.py',
               osp.join(work, 'iter_4.pth'), dst, '--config', FT_CFG])
    conv = torch.load(dst, map_location='cpu', weights_only=True)
    sd = conv.get('state_dict', conv)
    assert any(k.startswith('backbone.') for k in sd)
    assert any(k.startswith('decode_head.aspp_modules') for k in sd)
    assert not any('conv_seg' in k or 'queue' in k for k in sd)
    key = next(k for k in sd if k.startswith('backbone.conv1'))
    src = [k for k in sd4 if k.endswith(key)]
    assert src and torch.equal(sd[key], sd4[src[0]])


def test_cp2_dist_train_two_gloo_processes(tmp_path):
    """tools/dist_train.sh with 2 CPU processes: DDP with the unused
    conv_seg (find_unused_parameters in every CP2 config), shuffle BN, the
    all-rank enqueue (2 ranks x 2 keys per step) and checkpointing."""
    data = write_camvid(str(tmp_path / 'camvid'), size=(72, 96))
    work = str(tmp_path / 'work')
    out = run(['bash', 'tools/dist_train.sh', CFG, '2', '--work-dir', work] +
              _opts(data, 2), env_extra=dict(PORT='29533'), timeout=600)
    assert 'Iter(train) [2/2]' in out
    sd = torch.load(osp.join(work, 'iter_2.pth'), map_location='cpu',
                    weights_only=False)['state_dict']
    assert int(sd['queue_ptr']) == (2 * 2 * 2) % 8
