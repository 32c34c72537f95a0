"""tools/train.py, tools/test.py, --resume and tools/dist_train.sh end to
end on a tiny synthetic set, as a user runs them."""
import glob
import os
import os.path as osp
import re
import shutil
import subprocess

import pytest
import torch

from ..conftest import PYTHON, REPO

class Evil:
    """A checkpoint payload that runs a shell command when unpickled."""

    def __init__(self, cmd):
        self.cmd = cmd

    def __reduce__(self):
        return (os.system, (self.cmd, ))


CFG = osp.join(REPO, 'configs/demo/deeplabv3_r18-d8_1xb8-300_synthetic-64x64.py')


def _opts(data_root, iters):
    return [
        '--cfg-options', f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        'train_dataloader.batch_size=2', f'train_cfg.max_iters={iters}',
        f'train_cfg.val_interval={iters}',
        f'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1',
        f'param_scheduler.0.end={iters}',
        'model.backbone.depth=18'
    ]


def run(cmd, env_extra=None, **kwargs):
    env = dict(os.environ, PYTHON=PYTHON, OMP_NUM_THREADS='1',
               **(env_extra or {}))
    proc = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True, **kwargs)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    return out


@pytest.fixture(scope='module')
def trained(synthetic_root, tmp_path_factory):
    work = str(tmp_path_factory.mktemp('train'))
    out = run([PYTHON, 'tools/train.py', CFG, '--work-dir', work] +
              _opts(synthetic_root, 4))
    assert 'Iter(train) [4/4]' in out
    assert osp.isfile(osp.join(work, 'iter_4.pth'))
    return work


def test_test_tool_prints_miou(trained, synthetic_root):
    out = run([
        PYTHON, 'tools/test.py', CFG,
        osp.join(trained, 'iter_4.pth'), '--work-dir',
        osp.join(trained, 'test')
    ] + _opts(synthetic_root, 4))
    assert 'mIoU' in out and 'aAcc' in out and 'mAcc' in out
    # the per-class table
    for name in ('background', 'disc', 'square', 'triangle'):
        assert name in out


def test_test_tool_out_and_show_dir(trained, synthetic_root, tmp_path):
    """--out writes one prediction PNG per test image (label values),
    --show-dir one painted image per test image, as in mmseg."""
    import cv2
    import numpy as np
    out_dir, show_dir = str(tmp_path / 'preds'), str(tmp_path / 'show')
    work = str(tmp_path / 'work')
    run([PYTHON, 'tools/test.py', CFG, osp.join(trained, 'iter_4.pth'),
         '--work-dir', work, '--out', out_dir, '--show-dir', show_dir] +
        _opts(synthetic_root, 4))
    test_imgs = sorted(os.listdir(osp.join(synthetic_root, 'img_dir/val')))
    preds = sorted(os.listdir(out_dir))
    assert len(preds) == len(test_imgs) > 0
    for name in preds:
        pred = cv2.imread(osp.join(out_dir, name), cv2.IMREAD_UNCHANGED)
        assert pred.ndim == 2 and pred.max() < 4
    shown = glob.glob(osp.join(show_dir, 'vis_data', 'vis_image', '*.png'))
    assert len(shown) == len(test_imgs), shown


def test_amp_without_accelerator_is_a_clear_error(synthetic_root, tmp_path):
    if torch.cuda.is_available():
        pytest.skip('an accelerator is present: --amp is valid here')
    proc = subprocess.run(
        [PYTHON, 'tools/train.py', CFG, '--work-dir', str(tmp_path), '--amp']
        + _opts(synthetic_root, 2), cwd=REPO, capture_output=True, text=True)
    assert proc.returncode != 0
    assert 'needs a CUDA' in proc.stderr and '--amp' in proc.stderr


def test_resume(trained, synthetic_root):
    out = run([PYTHON, 'tools/train.py', CFG, '--work-dir', trained,
               '--resume'] + _opts(synthetic_root, 6))
    assert 'resumed' in out.lower() or 'Load checkpoint from' in out
    assert 'Iter(train) [5/6]' in out
    assert 'Iter(train) [1/6]' not in out
    assert osp.isfile(osp.join(trained, 'iter_6.pth'))


def _init_weights(trained, tmp_path):
    """Initial weights as a converter writes them: a state_dict, no meta."""
    ckpt = torch.load(
        osp.join(trained, 'iter_4.pth'), map_location='cpu',
        weights_only=True)
    init = str(tmp_path / 'init.pth')
    torch.save(dict(state_dict=ckpt['state_dict']), init)
    return init


def test_resume_with_load_from_resumes_the_work_dir(trained, synthetic_root,
                                                     tmp_path):
    """A fine-tuning run (load_from = initial weights) that was interrupted
    resumes from its own latest checkpoint, not from the initial weights."""
    init = _init_weights(trained, tmp_path)
    work = str(tmp_path / 'work')
    shutil.copytree(trained, work, ignore=shutil.ignore_patterns('iter_6.pth'))
    with open(osp.join(work, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(work, 'iter_4.pth'))
    out = run([PYTHON, 'tools/train.py', CFG, '--work-dir', work, '--resume']
              + _opts(synthetic_root, 6) + [f'load_from={init}'])
    assert f'resuming from {osp.join(work, "iter_4.pth")}' in out
    assert 'Iter(train) [5/6]' in out
    assert 'Iter(train) [1/6]' not in out
    assert osp.isfile(osp.join(work, 'iter_6.pth'))


def test_resume_with_load_from_and_no_checkpoint_starts_from_init(
        trained, synthetic_root, tmp_path):
    init = _init_weights(trained, tmp_path)
    work = str(tmp_path / 'work')
    out = run([PYTHON, 'tools/train.py', CFG, '--work-dir', work, '--resume']
              + _opts(synthetic_root, 2) + [f'load_from={init}'])
    assert 'as initial weights' in out
    assert f'Load checkpoint from {init}' in out
    assert 'Iter(train) [1/2]' in out


def test_test_tool_rejects_unsafe_checkpoint(trained, synthetic_root,
                                             tmp_path):
    ckpt = torch.load(
        osp.join(trained, 'iter_4.pth'), map_location='cpu',
        weights_only=True)
    marker = tmp_path / 'pwned'
    ckpt['payload'] = Evil(f'touch {marker}')
    bad = str(tmp_path / 'bad.pth')
    torch.save(ckpt, bad)
    proc = subprocess.run(
        [PYTHON, 'tools/test.py', CFG, bad] + _opts(synthetic_root, 4),
        cwd=REPO, capture_output=True, text=True)
    assert proc.returncode != 0
    assert 'GLOBAL posix.system' in proc.stderr
    assert not marker.exists()  # the payload never ran


def test_test_tool_lists_missing_keys(trained, synthetic_root, tmp_path):
    ckpt = torch.load(
        osp.join(trained, 'iter_4.pth'), map_location='cpu',
        weights_only=True)
    del ckpt['state_dict']['decode_head.conv_seg.weight']
    bad = str(tmp_path / 'missing.pth')
    torch.save(ckpt, bad)
    proc = subprocess.run(
        [PYTHON, 'tools/test.py', CFG, bad] + _opts(synthetic_root, 4),
        cwd=REPO, capture_output=True, text=True)
    assert proc.returncode != 0
    assert 'decode_head.conv_seg.weight' in proc.stderr


def test_unregistered_type_hint(synthetic_root, tmp_path):
    proc = subprocess.run(
        [PYTHON, 'tools/train.py', CFG, '--work-dir',
         str(tmp_path)] + _opts(synthetic_root, 2) +
        ['model.decode_head.type=NoSuchHead'],
        cwd=REPO, capture_output=True, text=True)
    assert proc.returncode != 0
    assert 'NoSuchHead' in proc.stderr and 'custom_imports' in proc.stderr


def test_dist_train_two_gloo_processes(synthetic_root, tmp_path):
    work = str(tmp_path / 'dist')
    out = run(['bash', 'tools/dist_train.sh', CFG, '2', '--work-dir', work] +
              _opts(synthetic_root, 2) + ['env_cfg.dist_cfg.backend=gloo'],
              timeout=600)
    assert 'Iter(train) [2/2]' in out
    assert osp.isfile(osp.join(work, 'iter_2.pth'))
    logs = glob.glob(osp.join(work, '*', '*.log'))
    assert logs and 'Distributed training: True' in open(logs[0]).read()
    assert 'gloo process group: rank 0 of 2' in out


def _miou(out):
    hits = re.findall(r'Iter\(test\).*?mIoU: ([0-9.]+)', out)
    assert hits, out[-3000:]
    return float(hits[-1])


def test_dist_test_two_gloo_processes_matches_one(trained, synthetic_root):
    """tools/dist_test.sh splits the test set over 2 gloo processes and
    gathers the results: the same mIoU as one process."""
    ckpt = osp.join(trained, 'iter_4.pth')
    single = run([PYTHON, 'tools/test.py', CFG, ckpt, '--work-dir',
                  osp.join(trained, 'test1')] + _opts(synthetic_root, 4))
    dist = run(['bash', 'tools/dist_test.sh', CFG, ckpt, '2', '--work-dir',
                osp.join(trained, 'test2')] + _opts(synthetic_root, 4) +
               ['env_cfg.dist_cfg.backend=gloo'],
               env_extra=dict(PORT='29517'), timeout=600)
    assert 'gloo process group: rank 0 of 2' in dist
    assert _miou(dist) == _miou(single)
