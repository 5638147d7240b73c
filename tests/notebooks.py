"""Run every notebook's tests as `nbdev-test` does (nbdev's own `test_nb`, the same flags, output and exit code), but
hand the longest notebooks to the workers first.

`nbdev-test` starts the notebooks in file-name order, so `99_study`, the longest, starts last and runs alone while
the other worker idles (simulated from one CI run's notebook times with AVX2 emulated: 736 s in file-name order, 586 s
longest first; measured by `benchmarks/bench_notebooks.sh`: 0.87x the wall time of `nbdev-test`, one pair, 2-core Xeon
with avx2 and avx512_bf16). Each notebook runs in a fresh process, as in a fresh
kernel: `nbdev-test` runs the notebooks one after another in its two worker processes, so what one sets in
`os.environ` (nnU-Net's folders, after a training) reaches the next, and its file-name order only happened to hide that
(run longest first, 30_dataset read 50_predict's nnU-Net folders). The processes are forked from a server that has
imported the heavy modules once. For one notebook use `nbdev-test nbs/NAME.ipynb`.

    python tests/notebooks.py [--flags slow] [--n-workers 2] [--timing] [--cell-timing-min 15] [--file-glob '0*.ipynb']
"""
import multiprocessing, os, sys
from fastcore.parallel import parallel
from fastcore.script import call_parse
from nbdev.config import get_config
from nbdev.doclinks import nbglob
from nbdev.test import test_nb

# The longest notebooks (measured in CI), started first in this order; the others follow in file-name order.
LONGEST_FIRST = ('50_predict', '99_study', '41_train', '83_response', '90_report', '95_demo')

# imported once by the process the notebooks' processes are forked from
PRELOAD = ['nbdev.test', 'numpy', 'pandas', 'scipy.ndimage', 'SimpleITK', 'torch', 'psma_nb.core']

def ordered(files:list) -> list:
    "`files` (notebook paths) with `LONGEST_FIRST` at the front, the rest in file-name order."
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    return sorted(sorted(files), key=lambda f: rank.get(f.stem, len(rank)))

@call_parse
def main(flags:str='',                 # space-separated test flags to run that are normally skipped (e.g. slow)
         n_workers:int=None,           # notebooks at once (default: the CPU count, at most 8)
         timing:bool=False,            # print each notebook's time at the end
         cell_timing_min:float=None,   # print cells slower than this many seconds
         file_glob:str='*.ipynb',      # only the notebooks whose file name matches
         ):
    cfg = get_config()
    files = ordered([f.absolute() for f in nbglob(file_glob=file_glob, as_path=True)])
    skip = cfg.tst_flags.split() if isinstance(cfg.tst_flags, str) else list(cfg.tst_flags or [])
    n = min(os.cpu_count() or 1, 8) if n_workers is None else n_workers
    os.chdir(cfg.nbs_path)
    multiprocessing.set_forkserver_preload(PRELOAD)
    results = parallel(test_nb, files, skip_flags=skip, force_flags=flags.split(), n_workers=n, basepath=cfg.config_path,
                       pause=0.01, method='forkserver', max_tasks_per_child=1, cell_timeout=cfg.cell_timeout or None,
                       cell_timing_min=cell_timing_min if cell_timing_min is not None else cfg.get('cell_timing_min'))
    passed, times = zip(*results)
    if all(passed): print("Success.")
    else:   # nbdev-test's words, which .ci/run reads
        failed = '\n\t'.join(f.name for p, f in zip(passed, files) if not p)
        sys.stderr.write(f"\nnbdev Tests Failed On The Following Notebooks:\n{'=' * 50}\n\t{failed}\n")
        sys.exit(1)
    if timing:
        for f, t in sorted(zip(files, times), key=lambda o: o[1], reverse=True): print(f"{f.name}: {int(t)} secs")
