"""tools/correlate_aux_metric.py: correlations of scores with mIoU."""
import json
import subprocess

import pytest

from ..conftest import PYTHON, REPO


def test_correlations_and_ranking(tmp_path):
    rows = tmp_path / 'rows.csv'
    rows.write_text('name,miou,aux/q,aux/fnr_a\n'
                    'a,40.0,0.30,0.40\nb,42.0,0.35,0.20\n'
                    'c,47.0,0.50,0.25\nd,45.0,0.45,0.10\n')
    out = tmp_path / 'c.json'
    proc = subprocess.run([PYTHON, 'tools/correlate_aux_metric.py',
                           str(rows), '--out', str(out)], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(out.read_text())
    q = res['aux/q']
    # q orders a < b < d < c exactly as mIoU does
    assert q['spearman'] == pytest.approx(1.0)
    assert q['kendall'] == pytest.approx(1.0) and q['same_ranking'] == 1.0
    # Pearson by hand: x = q, y = miou
    x, y = [0.30, 0.35, 0.50, 0.45], [40., 42., 47., 45.]
    mx, my = sum(x) / 4, sum(y) / 4
    cov = sum((a - mx) * (b - my) for a, b in zip(x, y))
    var = (sum((a - mx)**2 for a in x) * sum((b - my)**2 for b in y))**.5
    assert q['pearson'] == pytest.approx(cov / var)
    f = res['aux/fnr_a']
    assert f['same_ranking'] == 0.0 and f['kendall'] < 0
    assert '| aux/q |' in proc.stdout
