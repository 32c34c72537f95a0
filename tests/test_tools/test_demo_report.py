"""tools/demo_report.py (the last step of make demo): per-class IoU from
one confusion matrix, and a model that is not above chance on every class
fails the demo with the class named."""
import importlib.util
import os.path as osp
import subprocess

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import cp2_mmseg  # noqa: F401
from cp2_mmseg.datasets import make_synthetic_dataset

from ..conftest import PYTHON, REPO

CFG = osp.join(REPO, 'configs/demo/'
               'deeplabv3_r18w16-d8_1xb16-600_synthetic-demo-64x64.py')


def _tool():
    spec = importlib.util.spec_from_file_location(
        'demo_report', osp.join(REPO, 'tools/demo_report.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_iou_table_equals_per_class_counting():
    rng = np.random.default_rng(0)
    preds = [rng.integers(0, 3, (5, 7)) for _ in range(3)]
    gts = [rng.integers(0, 3, (5, 7)) for _ in range(3)]
    gts[0][0, :] = 255
    got = _tool().iou_table(preds, gts, 3)
    p, g = np.concatenate([x.ravel() for x in preds]), np.concatenate(
        [x.ravel() for x in gts])
    ok = g != 255
    for c in range(3):
        inter = ((p == c) & (g == c) & ok).sum()
        union = (((p == c) & ok) | (g == c)).sum()
        assert got[c] == 100 * inter / union


def test_untrained_model_fails_the_demo(tmp_path):
    root = str(tmp_path / 'synthetic_demo')
    make_synthetic_dataset(root, 4, 6, 64, seed=1, class_colours=True)
    init_default_scope('mmseg')
    cfg = Config.fromfile(CFG)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    with torch.no_grad():  # a constant 'background' predictor
        model.decode_head.conv_seg.weight.zero_()
        model.decode_head.conv_seg.bias.copy_(torch.tensor([1., 0, 0, 0]))
    ckpt = str(tmp_path / 'bg.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)
    cfg.test_dataloader.dataset.data_root = root
    cfg_path = str(tmp_path / 'cfg.py')
    cfg.dump(cfg_path)
    out = str(tmp_path / 'pred.png')
    proc = subprocess.run(
        [PYTHON, 'tools/demo_report.py', f'bg={cfg_path}:{ckpt}', '--out',
         out], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "not above chance: [('bg', 'disc')" in proc.stderr
    assert 'SYNTHETIC' in proc.stdout and osp.isfile(out)
    rows = {line.split()[0]: line.split()[1:] for line in
            proc.stdout.splitlines() if line.split() and line.split()[0] in
            ('background', 'disc', 'mIoU')}
    assert float(rows['disc'][1]) == 0  # never predicted
    assert 0 < float(rows['disc'][0]) < 50  # chance
