"""tools/benchmark/run_matrix.py with stand-in stages: runs what is missing,
skips finished stages and rows, shares a stage folder between rows, parses
test metrics, the per-class table and the validation curve, and writes
mean / std tables."""
import json
import os
import os.path as osp
import subprocess

from ..conftest import PYTHON, REPO

TRAIN = ("import sys; print('x - mmengine - INFO - Iter(train) [ 50/100]'); "
         "print('x - mmengine - INFO - Iter(val) [3/3]  aAcc: 50.0  mIoU: "
         "{a}'); print('x - mmengine - INFO - Iter(train) [100/100]'); "
         "print('x - mmengine - INFO - Iter(val) [3/3]  aAcc: 60.0  mIoU: "
         "{b}'); open(sys.argv[1] + '/count', 'a').write('t')")
TEST = ("print('x - mmengine - INFO - +-------+-------+-------+'); "
        "print('x - mmengine - INFO - | Class |  IoU  |  Acc  |'); "
        "print('x - mmengine - INFO - |  road | {road} | 90.0 |'); "
        "print('x - mmengine - INFO - |  sky  | 50.0 | 60.0 |'); "
        "print('x - mmengine - INFO - Iter(test) [3/3]    aAcc: 70.0  "
        "mIoU: {miou}  mAcc: 1.0')")


def _matrix(tmp_path, fail_seed=None):
    text = f'''
work_root = {str(tmp_path / 'work')!r}
results_dir = {str(tmp_path / 'results')!r}
splits = {{'1-8': 'split_{{seed}}.txt'}}
methods = dict(
    m=[dict(name='pre', dir='shared/pre_s{{seed}}', cmd=[
            '{PYTHON}', '-c', "import sys; open(sys.argv[1] + '/pre', 'a')"
            ".write('p')", '{{stage_dir}}']),
       dict(name='train', cmd=['{PYTHON}', '-c', {TRAIN.format(a=10, b=20)!r},
                               '{{stage_dir}}']),
       dict(name='test', test=True, curve_from='train', cmd=[
            '{PYTHON}', '-c',
            "import sys; s = int(sys.argv[1]); assert s != {fail_seed!r}; "
            "print('x - mmengine - INFO - |  road | %.1f | 90.0 |' % (30 + s));"
            "print('x - mmengine - INFO - Iter(test) [3/3]    aAcc: 70.0  "
            "mIoU: %.2f  mAcc: 1.0' % (40 + 2 * s))", '{{seed}}'])])
rows = [dict(method='m', fraction='1-8', iters=100, seed=s) for s in (0, 1)]
'''
    path = tmp_path / 'matrix.py'
    path.write_text(text)
    return str(path)


def _run(matrix, *args, threads='1'):
    env = dict(os.environ, OMP_NUM_THREADS=threads)
    return subprocess.run([PYTHON, 'tools/benchmark/run_matrix.py', matrix,
                           *args], cwd=REPO, capture_output=True, text=True,
                          env=env)


def test_runs_missing_skips_done_and_tabulates(tmp_path):
    proc = _run(_matrix(tmp_path, fail_seed=1))
    assert proc.returncode != 0 and 'stage failed' in proc.stderr
    work = tmp_path / 'work'
    # seed 0 finished; seed 1's train stage is done, its test failed
    r0 = json.load(open(work / 'm_1-8_100_s0' / 'result.json'))
    assert r0['mIoU'] == 40.0 and r0['per_class_iou'] == {'road': 30.0}
    assert r0['val_curve'] == [[50, 10.0], [100, 20.0]]
    assert r0['commands']['train'].startswith(PYTHON)
    assert r0['train_seconds'] >= 0 and r0['peak_rss_mb'] > 0
    assert osp.isfile(tmp_path / 'results' / 'm_1-8_100_s0.json')
    assert (work / 'm_1-8_100_s1' / 'train' / 'done').exists()
    proc = _run(_matrix(tmp_path), threads='2')
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert '[done] m_1-8_100_s0' in proc.stdout
    # resumed: train of seed 1 not rerun, each shared pretraining ran once
    assert (work / 'm_1-8_100_s1' / 'train' / 'count').read_text() == 't'
    assert (work / 'shared' / 'pre_s0' / 'pre').read_text() == 'p'
    r1 = json.load(open(work / 'm_1-8_100_s1' / 'result.json'))
    assert r1['mIoU'] == 42.0
    # each stage's own thread count: seed 1 trained with 1, tested with 2
    assert r0['omp_num_threads'] == '1'
    # its test failed with 1 thread and passed with 2: both are kept
    assert r1['omp_num_threads'] == dict(pre='1', train='1', test=['1', '2'])
    table = (tmp_path / 'results' / 'results.md').read_text()
    assert '| m | 1-8 | 100 | 2 | 41.00 ± 1.41 |' in table
    # the per-class table: one line per row (seed s has road IoU 30 + s)
    assert '| row | road |' in table
    assert '| m_1-8_100_s1 | 31.0 |' in table
    csv = (tmp_path / 'results' / 'results.csv').read_text().splitlines()
    assert len(csv) == 3


def test_rerun_runs_from_nothing_and_compares(tmp_path):
    matrix = _matrix(tmp_path)
    assert _run(matrix, '--only', 'm_1-8_100_s0').returncode == 0
    kept = tmp_path / 'results' / 'm_1-8_100_s0.json'
    before = kept.read_text()
    proc = _run(matrix, '--only', 'm_1-8_100_s0', '--rerun',
                str(tmp_path / 'again'))
    assert proc.returncode == 0, proc.stderr[-2000:]
    # everything ran again in the new folder, shared stages included
    again = tmp_path / 'again'
    assert (again / 'shared' / 'pre_s0' / 'pre').read_text() == 'p'
    assert (again / 'm_1-8_100_s0' / 'train' / 'count').read_text() == 't'
    assert not (again / 'm_1-8_100_s1').exists()
    assert kept.read_text() == before  # the kept result is left alone
    assert '| m_1-8_100_s0 | 40.00 | 40.00 | +0.00 |' in (
        again / 'rerun.md').read_text()
    # which side is which: a kept 39.5 against the rerun's 40
    kept.write_text(before.replace('"mIoU": 40.0', '"mIoU": 39.5'))
    proc = _run(matrix, '--only', 'm_1-8_100_s0', '--rerun', str(again))
    assert '| m_1-8_100_s0 | 39.50 | 40.00 | +0.50 |' in proc.stdout
    # the matrix's own work_root would overwrite; refused
    proc = _run(matrix, '--rerun', str(tmp_path / 'work'))
    assert proc.returncode != 0 and 'fresh folder' in proc.stderr


KILLED_THEN_RESUMED = (
    "import os, sys; d = sys.argv[1]; first = not os.path.exists(d + '/m'); "
    "open(d + '/m', 'a').close(); p = lambda t, s: print(t + ' - mmengine - "
    "INFO - ' + s)\n"
    "if first:\n"
    "    p('12/31 23:59:00', 'Iter(train) [ 50/100]')\n"
    "    p('12/31 23:59:30', 'Iter(val) [3/3]  aAcc: 50.0  mIoU: 10.0')\n"
    "    p('01/01 00:01:00', 'Iter(train) [ 60/100]'); sys.exit(1)\n"
    "p('01/01 00:05:00', 'Iter(train) [100/100]')\n"
    "p('01/01 00:05:10', 'Iter(val) [3/3]  aAcc: 60.0  mIoU: 20.0')")


def test_interrupted_training_keeps_every_attempt(tmp_path):
    """A training stage that died and then ran again: the row's validation
    curve has both attempts' points, its time includes the first attempt's
    (from its log's timestamps, across new year), both logs are kept, and
    the thread count of each attempt is recorded."""
    (tmp_path / 'matrix.py').write_text(f'''
work_root = {str(tmp_path / 'work')!r}
splits = {{'1-8': 'x'}}
methods = dict(m=[
    dict(name='train', resumable=True, cmd=[
        '{PYTHON}', '-c', {KILLED_THEN_RESUMED!r}, '{{stage_dir}}']),
    dict(name='test', test=True, curve_from='train', cmd=['{PYTHON}', '-c',
        {TEST.format(road=30.0, miou=40.0)!r}])])
rows = [dict(method='m', fraction='1-8', iters=100, seed=0)]
''')
    assert _run(str(tmp_path / 'matrix.py'), threads='1').returncode != 0
    proc = _run(str(tmp_path / 'matrix.py'), threads='2')
    assert proc.returncode == 0, proc.stderr[-2000:]
    train = tmp_path / 'work' / 'm_1-8_100_s0' / 'train'
    assert (train / 'stage.log.1').exists() and (train / 'stage.log').exists()
    done = json.load(open(train / 'done'))
    assert done['earlier_attempts_seconds'] == [120.0]
    # resumed with another thread count: both attempts' counts are kept
    assert done['earlier_attempts_omp_num_threads'] == ['1']
    r = json.load(open(tmp_path / 'work' / 'm_1-8_100_s0' / 'result.json'))
    assert r['omp_num_threads'] == dict(train=['1', '2'], test='2')
    assert r['val_curve'] == [[50, 10.0], [100, 20.0]]
    assert 120 <= r['train_seconds'] < 200


def test_table_against_the_baseline(tmp_path):
    (tmp_path / 'results').mkdir()
    runs = dict(b=[40.0, 42.0], m=[43.0, 45.0], one=[44.0])
    for method, ious in runs.items():
        for seed, iou in enumerate(ious):
            json.dump(dict(name=f'{method}_s{seed}', method=method,
                           fraction='1-8', iters=100, seed=seed, mIoU=iou,
                           train_seconds=60, peak_rss_mb=1024),
                      open(tmp_path / 'results' / f'{method}_s{seed}.json',
                           'w'))
    (tmp_path / 'matrix.py').write_text(
        f"work_root = {str(tmp_path / 'w')!r}\n"
        f"results_dir = {str(tmp_path / 'results')!r}\n"
        "baseline = dict(method='b', iters=100)\n"
        "splits = {}\nmethods = {}\nrows = []\n")
    proc = _run(str(tmp_path / 'matrix.py'), '--table-only')
    assert proc.returncode == 0, proc.stderr[-2000:]
    table = (tmp_path / 'results' / 'results.md').read_text()
    assert 'vs b 100 (Δ, Welch t, df) |' in table
    # +3 over the baseline's mean; se = sqrt(2 / 2 + 2 / 2); df = 2 ** 2 /
    # (1 / 1 + 1 / 1)
    assert ('| m | 1-8 | 100 | 2 | 44.00 ± 1.41 | 43.00 (s0), 45.00 (s1) | '
            '+3.00, t 2.1, df 2.0 |') in table
    assert '| one | 1-8 | 100 | 1 | 44.00 ± n/a | 44.00 (s0) | +3.00 |' in table
    assert '| b | 1-8 | 100 | 2 | 41.00 ± 1.41 | 40.00 (s0), 42.00 (s1) | - |' \
        in table


def test_table_against_two_baselines(tmp_path):
    """A list of baselines gives one Δ column each, in the order given."""
    (tmp_path / 'results').mkdir()
    runs = {('b', 100): [40.0, 42.0], ('b', 150): [44.0, 46.0],
            ('m', 100): [43.0, 45.0]}
    for (method, iters), ious in runs.items():
        for seed, iou in enumerate(ious):
            name = f'{method}_{iters}_s{seed}'
            json.dump(dict(name=name, method=method, fraction='1-8',
                           iters=iters, seed=seed, mIoU=iou,
                           train_seconds=60, peak_rss_mb=1024),
                      open(tmp_path / 'results' / f'{name}.json', 'w'))
    (tmp_path / 'matrix.py').write_text(
        f"work_root = {str(tmp_path / 'w')!r}\n"
        f"results_dir = {str(tmp_path / 'results')!r}\n"
        "baseline = [dict(method='b', iters=100), dict(method='b', "
        "iters=150)]\n"
        "splits = {}\nmethods = {}\nrows = []\n")
    proc = _run(str(tmp_path / 'matrix.py'), '--table-only')
    assert proc.returncode == 0, proc.stderr[-2000:]
    table = (tmp_path / 'results' / 'results.md').read_text()
    assert ('per seed | vs b 100 (Δ, Welch t, df) | vs b 150 (Δ, Welch t, '
            'df) | time') in table
    assert '|---|---|---|---|---|---|---|---|---|---|' in table
    # m: +3 over b 100, -1 over b 150 (se = sqrt(2 / 2 + 2 / 2))
    assert ('| m | 1-8 | 100 | 2 | 44.00 ± 1.41 | 43.00 (s0), 45.00 (s1) | '
            '+3.00, t 2.1, df 2.0 | -1.00, t -0.7, df 2.0 |') in table
    # each baseline row is '-' against itself, compared with the other
    assert ('| b | 1-8 | 100 | 2 | 41.00 ± 1.41 | 40.00 (s0), 42.00 (s1) | - '
            '| -4.00, t -2.8, df 2.0 |') in table
    assert ('| b | 1-8 | 150 | 2 | 45.00 ± 1.41 | 44.00 (s0), 46.00 (s1) | '
            '+4.00, t 2.8, df 2.0 | - |') in table


def test_curves_plot_from_results(tmp_path):
    (tmp_path / 'results').mkdir()
    for seed in (0, 1):
        json.dump(dict(name=f'm_s{seed}', method='m', seed=seed, mIoU=1.0,
                       val_curve=[[10, 1.0 + seed], [20, 2.0]]),
                  open(tmp_path / 'results' / f'm_s{seed}.json', 'w'))
    (tmp_path / 'matrix.py').write_text(
        f"work_root = {str(tmp_path / 'w')!r}\n"
        f"results_dir = {str(tmp_path / 'results')!r}\n")
    proc = subprocess.run(
        [PYTHON, 'tools/benchmark/plot_results.py', str(tmp_path /
                                                        'matrix.py'),
         '--no-predictions'], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    import cv2
    img = cv2.imread(str(tmp_path / 'results' / 'curves.png'))
    assert img is not None and img.shape[0] > 100


def test_camvid_cpu_matrix_covers_the_protocol(tmp_path):
    """The committed CamVid matrix: every method at 1/8 and full labels, 3
    seeds each, CE with more iterations for the compute match, and every
    row's commands format (a dry run names no unknown placeholder) and
    build each row from nothing (an empty work root, no kept results)."""
    from mmengine import Config
    path = 'tools/benchmark/camvid_cpu_matrix.py'
    matrix = Config.fromfile(osp.join(REPO, path))
    rows = {(r['method'], r['fraction'], r['iters'], r['seed'])
            for r in matrix.rows}
    assert len(rows) == len(matrix.rows)  # no row twice
    for frac in ('1-8', 'full'):
        for m in ('ce', 'contrast', 'contrast_mem', 'spc', 'cp2',
                  'auxcon_ce_k32'):
            assert {s for mm, f, it, s in rows
                    if (mm, f, it) == (m, frac, 2000)} == {0, 1, 2}, (m, frac)
        assert {s for mm, f, it, s in rows
                if (mm, f, it) == ('ce', frac, 3000)} == {0, 1, 2}
    assert set(matrix.methods) == {r[0] for r in rows}
    # the memory bank is sized by the paper's rule (10 N / N for N labelled
    # images: 46 at 1/8 of CamVid's 367, all 367)
    for r in matrix.rows:
        if r['method'] == 'contrast_mem':
            n = {'1-8': 46, 'full': 367}[r['fraction']]
            assert (r['mem_pixels'], r['mem_regions']) == (10 * n, n), r
    proc = _run(path, '--dry-run')
    assert proc.returncode == 0, proc.stderr[-2000:]
    # a row with a committed result prints '[done] name' instead
    printed = proc.stdout.count(' test: ') + proc.stdout.count('[done] ')
    assert printed == len(rows), proc.stdout[-2000:]
    # on a machine with nothing yet (a fresh work root, no kept results)
    # every row names every command it needs, shared stages included
    fresh = tmp_path / 'fresh.py'
    fresh.write_text(f'_base_ = [{osp.join(REPO, path)!r}]\n'
                     f'work_root = {str(tmp_path / "work")!r}\n'
                     'results_dir = None\n')
    proc = _run(str(fresh), '--dry-run')
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count(' test: ') == len(rows)
    assert '[done]' not in proc.stdout and '(done)' not in proc.stdout
    # labels from the auxiliary-label stage-1 model: that model is trained
    # here (CE extractor -> CE labels -> stage 1), not assumed to exist
    aux = {line.split('] ')[1].split(':')[0]: line for line in
           proc.stdout.splitlines()
           if line.startswith('[auxcon_auxpre_k32_1-8_2000_s1] ')}
    assert list(aux)[:5] == ['split', 'ce_extractor', 'ce_auxgen',
                             'extractor', 'auxgen'], list(aux)
    assert '--work-dir ' + str(tmp_path / 'work' / 'ce_1-8_2000_s1' /
                               'train') in aux['ce_extractor']
    assert 'ce_1-8_2000_s1/train/iter_2000.pth' in aux['ce_auxgen']
    ext = aux['extractor']
    assert 'tools/train.py' in ext and 'auxcon-pretrain' in ext
    assert 'auxcon_ce_k32_1-8_2000_s1/pretrain' in ext
    assert 'aux_labels/ce_1-8_s1/k32_o0.05' in ext
    assert 'auxcon_ce_k32_1-8_2000_s1/pretrain/iter_500.pth' in aux['auxgen']
    # the all-label memory rows train and test with the 3670 / 367 bank
    mem = [line for line in proc.stdout.splitlines()
           if line.startswith('[contrast_mem_full_2000_s0] ')
           and (' train: ' in line or ' test: ' in line)]
    assert len(mem) == 2
    for line in mem:
        assert 'memory_bank.pixel_size=3670 ' in line
        assert line.endswith('memory_bank.region_size=367')
