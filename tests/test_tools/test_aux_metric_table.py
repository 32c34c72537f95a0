"""tools/benchmark/aux_metric_table.py: scores every labelled folder under
a root; auxiliary labels equal to the ground truth score Q = 1."""
import json
import os
import os.path as osp
import shutil
import subprocess

import cv2
import numpy as np

from ..conftest import PYTHON, REPO, write_camvid

CFG = osp.join(REPO, 'configs/deeplabv3/deeplabv3_r50-d8_4xb4-20k_camvid-360x480.py')


def test_table_of_folders(tmp_path):
    root = write_camvid(str(tmp_path / 'camvid'), size=(24, 32))
    aux_root = tmp_path / 'aux'
    perfect, noisy = aux_root / 'perfect', aux_root / 'noisy'
    rng = np.random.default_rng(0)
    for folder, k in ((perfect, 11), (noisy, 5)):
        os.makedirs(folder)
        for name in os.listdir(osp.join(root, 'val')):
            gt = cv2.imread(osp.join(root, 'valannot', name),
                            cv2.IMREAD_UNCHANGED)
            lab = np.where(gt == 11, 255, gt).astype(np.uint8) if k == 11 \
                else rng.integers(0, k, gt.shape).astype(np.uint8)
            cv2.imwrite(str(folder / name), lab)
        json.dump(dict(k=k, outlier_ratio=0.0), open(folder / 'meta.json',
                                                     'w'))
    # the eval tool needs the data root: use a config copy pointing at it
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(f"_base_ = [{CFG!r}]\n"
                   f"val_dataloader = dict(dataset=dict(data_root={root!r}))\n")
    proc = subprocess.run(
        [PYTHON, 'tools/benchmark/aux_metric_table.py', str(cfg),
         str(aux_root), '--split', 'val', '--out', str(tmp_path / 't.md')],
        cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = {line.split('|')[1].strip(): line.split('|')
            for line in (tmp_path / 't.md').read_text().splitlines()[2:]}
    assert set(rows) == {'aux/perfect', 'aux/noisy'}
    assert float(rows['aux/perfect'][4]) == 1.0  # q
    assert float(rows['aux/noisy'][4]) < 0.5
    assert osp.isfile(perfect / 'scores_val.json')
    shutil.rmtree(aux_root)
