"""tools/eval_aux_labels.py on a tiny CamVid: a renaming of the classes
scores q = 1; a missing PNG is an error naming it."""
import json
import os
import os.path as osp
import subprocess

import cv2
import numpy as np

from ..conftest import PYTHON, REPO, write_camvid

CFG = osp.join(REPO, 'configs/deeplabv3/deeplabv3_r50-d8_4xb4-20k_camvid-360x480.py')


def test_eval_aux_labels_tool(tmp_path):
    root = write_camvid(str(tmp_path / 'camvid'))
    aux_dir = str(tmp_path / 'aux')
    os.makedirs(aux_dir)
    perm = np.array([3, 5, 0, 1, 2, 4, 6, 7, 10, 9, 8, 255], np.uint8)
    for name in os.listdir(osp.join(root, 'trainannot')):
        gt = cv2.imread(osp.join(root, 'trainannot', name), 0)
        cv2.imwrite(osp.join(aux_dir, name), perm[gt])  # 11 (void) -> 255
    with open(osp.join(aux_dir, 'meta.json'), 'w') as f:
        json.dump(dict(k=11), f)
    out_json = str(tmp_path / 'scores.json')
    cmd = [PYTHON, 'tools/eval_aux_labels.py', CFG, aux_dir, '--out',
           out_json, '--cfg-options',
           f'train_dataloader.dataset.data_root={root}']
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    scores = json.load(open(out_json))['scores']
    assert scores['aux/q'] > 0.999 and scores['aux/nmi'] > 0.999
    assert scores['aux/coverage'] > 0.999
    os.remove(osp.join(aux_dir, name))
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert proc.returncode != 0 and name[:-4] in proc.stderr
