# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Run an experiment matrix: what is missing, skip what is done, tabulate.

    python tools/benchmark/run_matrix.py MATRIX.py [--only PATTERN ...]
        [--dry-run] [--table-only]

MATRIX.py (an mmengine config; ``tools/benchmark/camvid_cpu_matrix.py`` is
the CPU CamVid one) defines ``work_root``, ``methods`` and ``rows``. A row
is ``dict(method, fraction, iters, seed)`` (``model`` / ``input`` are
descriptive columns); its name is ``<method>_<fraction>_<iters>_s<seed>``.
A method is a list of stages; each stage is a command template whose
``{placeholders}`` are filled from the row (``py``, ``row_dir``,
``stage_dir``, ``split``, ``iters``, ``seed``, ``fraction``,
``work_root``, ``work_root_abs``, the matrix
variables) and from earlier stages (``{<stage>_dir}``). A stage with a
``dir`` (a template under ``work_root``, e.g.
``'shared/cp2_pretrain_s{seed}'``) runs once for all rows that give it the
same folder: label-free pretraining serves every label fraction, and the
auxiliary-label rows reuse the cross-entropy row's model as their
extractor. Every stage writes ``done`` when it succeeds, so an
interrupted matrix resumes where it stopped (train stages run with
``--resume`` when a checkpoint is there). Overrides go through config keys
and ``--transform-options Type.key=value``, never pipeline indices.

Each finished row gets ``result.json``: test mIoU / aAcc, per-class IoU,
the validation mIoU curve, training seconds and peak memory (max RSS of
its stages), and the exact commands; with ``results_dir`` in the matrix
(a folder that is committed) a copy goes there as ``<name>.json``, so a
matrix can be completed over several runs and machines. ``results.csv`` and
``results.md`` (mean and sample standard deviation over seeds per method /
fraction / iterations) are rewritten from all rows found; with
``baseline = dict(method=..., iters=...)`` in the matrix (or a list of
them, e.g. CE at the same fine-tuning and at the same total iterations),
``results.md`` also gives each method's difference of means against each
baseline at the same label fraction, one column per baseline, and Welch's
t with its degrees of freedom where both have two seeds or more. A
training stage that was interrupted and resumed keeps every attempt's log:
its validation curve and its time cover all of them.
``--rerun DIR`` runs rows again from nothing in a fresh folder and compares
them with the kept results.
"""
import argparse
import csv
import fnmatch
import glob
import json
import os
import os.path as osp
import re
import shlex
import statistics
import subprocess
import sys
import time
from datetime import datetime
from typing import Dict, List, Optional

from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
IOU_ROW = re.compile(r'^\|\s*([^|]+?)\s*\|\s*([\d.]+|nan)\s*\|\s*([\d.]+|nan)'
                     r'\s*\|\s*$')
VAL = re.compile(r'Iter\(val\) \[\d+/\d+\].*?mIoU: ([\d.]+)')
THREADS_LINE = '# OMP_NUM_THREADS='
TRAIN_ITER = re.compile(r'Iter\(train\) \[\s*(\d+)/')
STAMP = re.compile(r'^(\d\d/\d\d \d\d:\d\d:\d\d) - mmengine - ')
TEST = re.compile(r'Iter\(test\) \[\d+/\d+\]\s+aAcc: ([\d.]+)\s+mIoU: '
                  r'([\d.]+)')


def row_name(row: dict) -> str:
    return f'{row["method"]}_{row["fraction"]}_{row["iters"]}_s{row["seed"]}'


def _fmt(template: str, values: dict) -> str:
    try:
        return template.format(**values)
    except KeyError as e:
        raise KeyError(f'placeholder {e} of {template!r} is not one of '
                       f'{sorted(values)}') from None


def attempt_logs(stage_dir: str, log_name: str) -> List[str]:
    """The logs of a stage's earlier attempts (``stage.log.1``, ...), oldest
    first, then its current log: a resumed training keeps all of them."""
    log = osp.join(stage_dir, log_name)
    earlier = glob.glob(glob.escape(log) + '.*')
    earlier = sorted((p for p in earlier if p.rsplit('.', 1)[1].isdigit()),
                     key=lambda p: int(p.rsplit('.', 1)[1]))
    return earlier + ([log] if osp.isfile(log) else [])


def logged_seconds(path: str) -> float:
    """Wall time an attempt ran, from the first to the last mmengine
    timestamp (``MM/DD HH:MM:SS``) of its log: for an attempt that was
    killed and never reported its own time. 0 without timestamps."""
    stamps = []
    for line in open(path, errors='replace'):
        m = STAMP.match(line)
        if m:
            # a leap year, so that 02/29 parses
            stamps.append(datetime.strptime('2024/' + m.group(1),
                                            '%Y/%m/%d %H:%M:%S'))
    if len(stamps) < 2:
        return 0.0
    end = stamps[-1]
    if end < stamps[0]:  # ran over new year
        end = end.replace(year=2025)
    return (end - stamps[0]).total_seconds()


def logged_threads(path: str) -> Optional[str]:
    """``OMP_NUM_THREADS`` an attempt ran with, from the ``# OMP_NUM_THREADS=``
    first line of its log (None = unset, torch's default); ``'unrecorded'``
    for a log written before that line existed."""
    with open(path, errors='replace') as fh:
        line = fh.readline()
    if line.startswith(THREADS_LINE):
        return line[len(THREADS_LINE):].strip() or None
    return 'unrecorded'


def run_stage(cmd: List[str], stage_dir: str, log_name: str) -> Dict:
    """Run one command under /usr/bin/time -v, log to stage_dir.

    The log of an earlier attempt (killed, or failed) is kept as
    ``<log_name>.<n>``, and the time it ran (from its mmengine timestamps)
    is added to ``seconds``: a resumed training reports its whole time and
    its whole validation curve. Each log records the ``OMP_NUM_THREADS``
    of its attempt, so a stage resumed with another thread count says so
    (``earlier_attempts_omp_num_threads``).
    """
    os.makedirs(stage_dir, exist_ok=True)
    log = osp.join(stage_dir, log_name)
    if osp.isfile(log):
        os.rename(log, f'{log}.{len(attempt_logs(stage_dir, log_name))}')
    earlier_logs = attempt_logs(stage_dir, log_name)
    earlier = [round(logged_seconds(p), 1) for p in earlier_logs]
    time_file = osp.join(stage_dir, 'time.txt')
    timed = (['/usr/bin/time', '-v', '-o', time_file]
             if osp.exists('/usr/bin/time') else []) + cmd
    start = time.perf_counter()
    with open(log, 'w') as fh:
        # first line: the threads (the command line may span several)
        fh.write(THREADS_LINE + os.environ.get('OMP_NUM_THREADS', '') + '\n')
        fh.write('$ ' + shlex.join(cmd) + '\n')
        fh.flush()
        proc = subprocess.run(timed, cwd=ROOT, stdout=fh,
                              stderr=subprocess.STDOUT)
    secs = time.perf_counter() - start
    text = open(log, errors='replace').read()
    rss = re.search(r'Maximum resident set size \(kbytes\): (\d+)',
                    open(time_file).read()) if osp.isfile(time_file) else None
    if proc.returncode != 0:
        raise RuntimeError(f'stage failed (exit {proc.returncode}), see {log}'
                           f':\n{text[-2000:]}')
    info = dict(cmd=shlex.join(cmd), seconds=round(secs + sum(earlier), 1),
                max_rss_mb=round(int(rss.group(1)) / 1024, 1) if rss else
                None, log=osp.relpath(log, ROOT),
                omp_num_threads=os.environ.get('OMP_NUM_THREADS'))
    if earlier:  # what the earlier attempts ran (peak memory: last only)
        info['earlier_attempts_seconds'] = earlier
        info['earlier_attempts_omp_num_threads'] = [
            logged_threads(p) for p in earlier_logs]
    with open(osp.join(stage_dir, 'done'), 'w') as fh:
        json.dump(info, fh)
    return info


def parse_test_log(path: str) -> Dict:
    """Test mIoU / aAcc and the per-class IoU table of tools/test.py."""
    text = ''.join(line for line in open(path, errors='replace')
                   if not line.startswith('$ '))  # not the command line
    m = TEST.findall(text)
    if not m:
        raise RuntimeError(f'no test metrics in {path}')
    per_class = {}
    for line in text.splitlines():
        line = re.sub(r'^.*? - mmengine - INFO - ', '', line)
        r = IOU_ROW.match(line.strip())
        if r and r.group(1) not in ('Class', 'class'):
            per_class[r.group(1)] = float(r.group(2))
    return dict(aAcc=float(m[-1][0]), mIoU=float(m[-1][1]),
                per_class_iou=per_class)


def parse_val_curve(paths: List[str]) -> List:
    """(iteration, val mIoU) pairs of a training's logs, its attempts in
    order (a later attempt's value wins at the same iteration)."""
    curve = {}
    for path in paths:
        last_iter = 0
        for line in open(path, errors='replace'):
            if line.startswith('$ '):  # the command line
                continue
            t = TRAIN_ITER.search(line)
            if t:
                last_iter = int(t.group(1))
            v = VAL.search(line)
            if v:
                curve[last_iter] = float(v.group(1))
    return [[i, curve[i]] for i in sorted(curve)]


def run_row(matrix: Config, row: dict, dry_run: bool,
            until: Optional[str] = None) -> Optional[Dict]:
    name = row_name(row)
    row_dir = osp.join(matrix.work_root, name)
    result_file = osp.join(row_dir, 'result.json')
    kept = osp.join(ROOT, matrix.get('results_dir') or '', name + '.json')
    if osp.isfile(result_file) or (matrix.get('results_dir')
                                   and osp.isfile(kept)):
        print(f'[done] {name}')
        return None
    method = matrix.methods[row['method']]
    values = dict(matrix.get('variables', {}), py=sys.executable,
                  row_dir=row_dir, work_root=matrix.work_root,
                  work_root_abs=osp.abspath(osp.join(ROOT, matrix.work_root)),
                  **{k: row[k] for k in row})
    values['split'] = _fmt(matrix.splits[row['fraction']], values)
    stages, stage_info = [], {}
    for stage in method:
        if stage.get('dir'):  # shared with other rows
            stage_dir = osp.join(matrix.work_root, _fmt(stage['dir'], values))
        else:
            stage_dir = osp.join(row_dir, stage['name'])
        values[f'{stage["name"]}_dir'] = stage_dir
        values['stage_dir'] = stage_dir
        cmd = [_fmt(str(a), values) for a in stage['cmd']]
        done = osp.join(stage_dir, 'done')
        if dry_run:
            print(f'[{name}] {stage["name"]}: {shlex.join(cmd)}'
                  + (' (done)' if osp.isfile(done) else ''))
            continue
        if osp.isfile(done):
            info = json.load(open(done))
        else:
            if stage.get('resumable') and osp.isfile(
                    osp.join(stage_dir, 'last_checkpoint')):
                cmd = cmd + ['--resume']
            print(f'[run ] {name} {stage["name"]}: {shlex.join(cmd)}',
                  flush=True)
            info = run_stage(cmd, stage_dir, 'stage.log')
        stage_info[stage['name']] = info
        stages.append(stage)
        if stage['name'] == until:
            return None
    if dry_run:
        return None
    test_stage = next(s for s in reversed(method) if s.get('test'))
    test_dir = values[f'{test_stage["name"]}_dir']
    metrics = parse_test_log(osp.join(test_dir, 'stage.log'))
    train_stage = test_stage.get('curve_from')
    curve = parse_val_curve(attempt_logs(
        values[f'{train_stage}_dir'], 'stage.log')) if train_stage else []
    train_secs = sum(i['seconds'] for n, i in stage_info.items()
                     if n != test_stage['name'])
    rss = [i['max_rss_mb'] for i in stage_info.values() if i['max_rss_mb']]
    # each stage recorded its own threads (stages done before that field
    # existed: this run's)
    env_threads = os.environ.get('OMP_NUM_THREADS')

    def stage_threads(info: Dict):
        # a stage resumed with another thread count: every attempt's, oldest
        # first
        now = info.get('omp_num_threads', env_threads)
        attempts = info.get('earlier_attempts_omp_num_threads', []) + [now]
        return now if len(set(attempts)) == 1 else attempts

    per_stage = {n: stage_threads(i) for n, i in stage_info.items()}
    first = next(iter(per_stage.values()), env_threads)
    result = dict(
        name=name, **{k: row[k] for k in row}, **metrics,
        val_curve=curve, train_seconds=round(train_secs, 1),
        peak_rss_mb=max(rss) if rss else None,
        # threads matter for time and for bitwise reruns; None = torch's
        # default (all cores); per stage where the stages differ
        omp_num_threads=first if all(
            t == first for t in per_stage.values()) else per_stage,
        commands={n: i['cmd'] for n, i in stage_info.items()})
    for path in [result_file] + ([osp.join(
            ROOT, matrix.results_dir, name + '.json')]
            if matrix.get('results_dir') else []):
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'w') as fh:
            json.dump(result, fh, indent=1)
    print(f'[ ok ] {name}: mIoU {metrics["mIoU"]:.2f}', flush=True)
    return result


def _versus(ious: List[float], ref: List[float]) -> str:
    """Difference of mean test mIoU against the baseline's seeds, with
    Welch's t statistic and its Welch-Satterthwaite degrees of freedom where
    both sides have two seeds or more (``-`` without a baseline row)."""
    if not ref:
        return '-'
    delta = statistics.mean(ious) - statistics.mean(ref)
    if len(ious) < 2 or len(ref) < 2:
        return f'{delta:+.2f}'
    a = statistics.variance(ious) / len(ious)
    b = statistics.variance(ref) / len(ref)
    if a + b == 0:
        return f'{delta:+.2f}'
    df = (a + b)**2 / (a**2 / (len(ious) - 1) + b**2 / (len(ref) - 1))
    return f'{delta:+.2f}, t {delta / (a + b) ** 0.5:.1f}, df {df:.1f}'


def write_tables(matrix: Config) -> None:
    """results.csv (one line per row) and results.md (mean / std)."""
    found = {}
    pattern = [osp.join(matrix.work_root, '*', 'result.json')]
    if matrix.get('results_dir'):
        pattern.append(osp.join(ROOT, matrix.results_dir, '*.json'))
    for pat in pattern:
        for p in sorted(glob.glob(pat)):
            r = json.load(open(p))
            found[r['name']] = r
    results = [found[k] for k in sorted(found)]
    if not results:
        return
    out_dir = osp.join(ROOT, matrix.get('results_dir') or matrix.work_root)
    keys = ['name', 'method', 'fraction', 'iters', 'seed', 'mIoU', 'aAcc',
            'train_seconds', 'peak_rss_mb']
    with open(osp.join(out_dir, 'results.csv'), 'w',
              newline='') as fh:
        w = csv.writer(fh)
        w.writerow(keys)
        for r in results:
            w.writerow([r.get(k) for k in keys])
    groups: Dict = {}
    for r in results:
        groups.setdefault((r['method'], r['fraction'], r['iters']),
                          []).append(r)
    # e.g. dict(method='ce', iters=2000), or a list of such: one column each
    bases = matrix.get('baseline') or []
    if isinstance(bases, dict):
        bases = [bases]
    base_col = ''.join(f' vs {b["method"]} {b["iters"]} (Δ, Welch t, df) |'
                       for b in bases)
    lines = ['| method | labels | iters | seeds | test mIoU (mean ± std) | '
             'per seed |' + base_col + ' time of all stages (min) | '
             'peak RSS (GB) |',
             '|---|---|---|---|---|---|' + '---|' * len(bases) + '---|---|']
    for (method, frac, iters), rs in sorted(groups.items()):
        ious = [r['mIoU'] for r in rs]
        std = f'{statistics.stdev(ious):.2f}' if len(ious) > 1 else 'n/a'
        per_seed = ', '.join(f'{r["mIoU"]:.2f} (s{r["seed"]})' for r in rs)
        mins = statistics.mean(r['train_seconds'] for r in rs) / 60
        rss = max((r['peak_rss_mb'] or 0) for r in rs) / 1024
        vs = ''
        for base in bases:
            is_base = (method, iters) == (base['method'], base['iters'])
            ref = [] if is_base else [r['mIoU'] for r in groups.get(
                (base['method'], frac, base['iters']), [])]
            vs += ' ' + _versus(ious, ref) + ' |'
        lines.append(f'| {method} | {frac} | {iters} | {len(rs)} | '
                     f'{statistics.mean(ious):.2f} ± {std} | {per_seed} |'
                     f'{vs} {mins:.1f} | {rss:.2f} |')
    classes = list(dict.fromkeys(
        c for r in results for c in r.get('per_class_iou', {})))
    if classes:  # one line per row: where a method gains or loses
        lines += ['', 'Per-class test IoU:', '',
                  '| row | ' + ' | '.join(classes) + ' |',
                  '|---|' + '---|' * len(classes)]
        for r in results:
            iou = r.get('per_class_iou', {})
            lines.append(f'| {r["name"]} | ' + ' | '.join(
                f'{iou[c]:.1f}' if c in iou else '-' for c in classes) + ' |')
    with open(osp.join(out_dir, 'results.md'), 'w') as fh:
        fh.write('\n'.join(lines) + '\n')
    print('\n'.join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('matrix')
    parser.add_argument('--only', nargs='+', default=['*'],
                        help='row-name patterns (fnmatch) to run')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the commands, run nothing')
    parser.add_argument('--table-only', action='store_true')
    parser.add_argument('--until', help='run the selected rows up to this '
                        'stage only (e.g. auxgen), leaving the rest')
    parser.add_argument(
        '--rerun', metavar='DIR',
        help='run the selected rows again from nothing (split, shared '
        'pretraining and all) under DIR instead of work_root, leave '
        'results_dir alone, then compare each rerun with its kept result '
        '(DIR/rerun.md)')
    args = parser.parse_args()
    matrix = Config.fromfile(args.matrix)
    for key in ('work_root', 'methods', 'rows', 'splits'):
        if key not in matrix:
            sys.exit(f'error: {args.matrix} has no {key!r}')
    kept_dir = matrix.get('results_dir')
    if args.rerun:
        if not kept_dir:
            sys.exit(f'error: --rerun compares with results_dir, and '
                     f'{args.matrix} has none')
        if osp.abspath(args.rerun) == osp.abspath(
                osp.join(ROOT, matrix.work_root)):
            sys.exit(f'error: --rerun {args.rerun} is the matrix\'s own '
                     'work_root; give a fresh folder')
        matrix.work_root = args.rerun
        matrix.results_dir = None
    if not args.table_only:
        for row in matrix.rows:
            unknown = row['method'] not in matrix.methods
            if unknown:
                sys.exit(f'error: row {row} names an unknown method')
            if any(fnmatch.fnmatch(row_name(row), p) for p in args.only):
                if run_row(matrix, row, args.dry_run,
                           args.until) is not None:
                    write_tables(matrix)  # after every finished row
    if not args.dry_run:
        write_tables(matrix)
        if args.rerun:
            compare_reruns(matrix, osp.join(ROOT, kept_dir), args.only)


def compare_reruns(matrix: Config, kept_dir: str, only: List[str]) -> None:
    """Print and write ``<work_root>/rerun.md``: each rerun row's test mIoU
    beside the kept one, with both thread counts (a different count is
    another draw, not a bitwise rerun)."""
    lines = ['| row | kept mIoU | rerun mIoU | difference | kept threads | '
             'rerun threads |', '|---|---|---|---|---|---|']
    for row in matrix.rows:
        name = row_name(row)
        if not any(fnmatch.fnmatch(name, p) for p in only):
            continue
        kept_file = osp.join(kept_dir, name + '.json')
        new_file = osp.join(matrix.work_root, name, 'result.json')
        if not (osp.isfile(kept_file) and osp.isfile(new_file)):
            continue
        kept, new = json.load(open(kept_file)), json.load(open(new_file))
        lines.append(
            f'| {name} | {kept["mIoU"]:.2f} | {new["mIoU"]:.2f} | '
            f'{new["mIoU"] - kept["mIoU"]:+.2f} | '
            f'{kept.get("omp_num_threads")} | '
            f'{new.get("omp_num_threads")} |')
    with open(osp.join(matrix.work_root, 'rerun.md'), 'w') as fh:
        fh.write('\n'.join(lines) + '\n')
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
