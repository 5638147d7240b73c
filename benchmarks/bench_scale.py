"""Scale: a cohort of N scans through `psma evaluate` and `psma report`, wall time and peak memory, N = 50 … 400.

    .venv/bin/python benchmarks/bench_scale.py [--sizes 50,100,200,400] [--work DIR] [--workers 2]

One phantom cohort of the largest N is made once (`psma phantom --n N`, the default preset's centres and split) and
segmented once by the SUV threshold baseline (`psma predict --method threshold`), so no model is needed. Each size
is a nested random subset (seeded: the 50 scans are among the 100, …) written as a folder of symlinks to the study
folders plus the matching rows of cohort.csv; evaluate and report run on it as a user would run them, each in a
fresh process. Measured per run: wall time, the peak resident memory of the largest single process (getrusage of
the finished process tree: the evaluate parent or one of its workers) and the peak of the whole tree summed
(psutil, sampled every 50 ms). Memory must not grow with N (no stage holds all images at once); time should grow
linearly, so time per scan stays flat. Ratios are against N = the smallest size, the project's rule for speed.
Results: printed, and benchmarks/results/bench_scale.json.
"""
import argparse, csv, json, os, platform, random, resource, shutil, subprocess, sys, threading, time
from pathlib import Path
import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PSMA = Path(sys.executable).parent/'psma'


def measure_child(cmd):
    "Run `cmd` in this (fresh) process and print the peak RSS of its largest process, in bytes, as JSON."
    r = subprocess.run(cmd)
    kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss   # Linux: kilobytes; the largest reaped process
    print(json.dumps(dict(rc=r.returncode, maxrss=kb * 1024)), flush=True)


def run(cmd, cwd, log):
    "Wall time, peak single-process RSS and peak summed tree RSS of `cmd` (run under a measuring wrapper)."
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, __file__, '--measure', '--', *map(str, cmd)], cwd=cwd,
                         stdout=subprocess.PIPE, stderr=log, text=True)
    peak, done = [0], threading.Event()

    def sample():
        me = psutil.Process(p.pid)
        while not done.is_set():
            try: procs = [me, *me.children(recursive=True)]
            except psutil.NoSuchProcess: break
            tot = 0
            for q in procs:
                try: tot += q.memory_info().rss
                except psutil.NoSuchProcess: pass
            peak[0] = max(peak[0], tot)
            done.wait(0.05)
    th = threading.Thread(target=sample, daemon=True); th.start()
    out, _ = p.communicate()
    wall = time.perf_counter() - t0
    done.set(); th.join()
    res = json.loads(out.strip().splitlines()[-1])
    if res['rc'] != 0: raise SystemExit(f"{' '.join(map(str, cmd))} failed (exit {res['rc']}); see {log.name}")
    return dict(wall_s=wall, maxrss_mb=res['maxrss'] / 2**20, tree_mb=peak[0] / 2**20)


def subset(cohort:Path, ids:list, dest:Path):
    "A folder of symlinks to the study folders `ids` of `cohort` and the matching rows of cohort.csv."
    if dest.exists(): shutil.rmtree(dest)
    dest.mkdir(parents=True)
    with open(cohort/'cohort.csv', newline='') as f: rows = list(csv.DictReader(f))
    keep = set(ids)
    with open(dest/'cohort.csv', 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0])); w.writeheader()
        w.writerows(r for r in rows if r['case'] in keep)
    for c in ids: (dest/c).symlink_to(cohort/c, target_is_directory=True)


def cpu():
    info = subprocess.run(['lscpu'], capture_output=True, text=True).stdout
    model = next((l.split(':', 1)[1].strip() for l in info.splitlines() if l.startswith('Model name')), platform.processor())
    flags = next((l.split(':', 1)[1].split() for l in info.splitlines() if l.startswith('Flags')), [])
    return dict(model=model, cores=os.cpu_count(), avx2='avx2' in flags, avx512_bf16='avx512_bf16' in flags)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--sizes', default='50,100,200,400')
    ap.add_argument('--work', type=Path, default=ROOT/'work'/'bench_scale')
    ap.add_argument('--workers', type=int, default=2)
    a = ap.parse_args()
    sizes = sorted(int(s) for s in a.sizes.split(','))
    work = a.work.resolve(); work.mkdir(parents=True, exist_ok=True)
    (work/'settings.ini').write_text((ROOT/'settings.ini').read_text())   # own work folder, not the project's
    log = open(work/'bench_scale.log', 'a')
    cohort, pred = work/'cohort', work/'pred'
    setup = {}
    if not (cohort/'cohort.csv').exists():
        setup['phantom'] = run([PSMA, 'phantom', '--n', max(sizes), '-o', cohort, '--workers', a.workers,
                                '--overwrite', '--quiet'], work, log)
    if not (pred/'predict.json').exists():
        setup['predict_threshold'] = run([PSMA, 'predict', cohort, '--method', 'threshold', '-o', pred,
                                          '--workers', a.workers, '--quiet'], work, log)
    with open(cohort/'cohort.csv', newline='') as f: ids = sorted(r['case'] for r in csv.DictReader(f))
    if len(ids) < max(sizes): raise SystemExit(f"{cohort} has {len(ids)} scans, fewer than {max(sizes)}")
    random.Random(0).shuffle(ids)
    res = []
    for n in sizes:
        sub = work/f'n{n}'
        subset(cohort, ids[:n], sub)
        ev = run([PSMA, 'evaluate', sub, pred, '-o', work/f'eval{n}', '--workers', a.workers, '--overwrite',
                  '--quiet'], work, log)
        rp = run([PSMA, 'report', work/f'eval{n}', '-o', work/f'report{n}', '--overwrite', '--quiet'], work, log)
        res.append(dict(n=n, evaluate=ev, report=rp))
        print(f"N={n}: evaluate {ev['wall_s']:.1f} s, largest process {ev['maxrss_mb']:.0f} MB, tree {ev['tree_mb']:.0f} MB;"
              f" report {rp['wall_s']:.1f} s, {rp['maxrss_mb']:.0f} MB, tree {rp['tree_mb']:.0f} MB", flush=True)
    ref = res[0]
    print(f"\nCPU {cpu()}; workers {a.workers}; setup {json.dumps({k: round(v['wall_s'], 1) for k, v in setup.items()})}")
    print(f"{'N':>4} | evaluate s (×) | s/scan | largest MB (×) | tree MB (×) | report s (×) | largest MB (×) | tree MB (×)")
    for r in res:
        e, p, e0, p0 = r['evaluate'], r['report'], ref['evaluate'], ref['report']
        print(f"{r['n']:>4} | {e['wall_s']:7.1f} ({e['wall_s'] / e0['wall_s']:4.2f}) | {e['wall_s'] / r['n']:6.2f} |"
              f" {e['maxrss_mb']:6.0f} ({e['maxrss_mb'] / e0['maxrss_mb']:4.2f}) | {e['tree_mb']:6.0f} ({e['tree_mb'] / e0['tree_mb']:4.2f}) |"
              f" {p['wall_s']:6.1f} ({p['wall_s'] / p0['wall_s']:4.2f}) | {p['maxrss_mb']:6.0f} ({p['maxrss_mb'] / p0['maxrss_mb']:4.2f}) |"
              f" {p['tree_mb']:6.0f} ({p['tree_mb'] / p0['tree_mb']:4.2f})")
    out = HERE/'results'/'bench_scale.json'; out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(dict(cpu=cpu(), workers=a.workers, setup=setup, runs=res), indent=1))


if __name__ == '__main__':
    if len(sys.argv) > 2 and sys.argv[1] == '--measure': measure_child(sys.argv[3:])
    else: main()
