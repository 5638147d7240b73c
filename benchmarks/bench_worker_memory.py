"""Workers that keep the memory they free (`psma_nb.core.KEEP_FREED`, `keep_freed_memory`): the false-positive filter's
fit (`_training_components`: N training scans, each as acquired and as three other scanners show it, predicted and
measured in two forked worker processes, as `psma predict` runs it on a CPU) with glibc's default (large blocks mapped
and unmapped for every array) against workers that reuse what they free, in turn (off, on, off, on) from one process,
by `bench_fp_workers.in_turn`: the feature tables asserted identical, the workers' page faults and system time.

    .venv/bin/python benchmarks/bench_worker_memory.py MODEL_FOLDER RAW_DATASET [N]

Arguments as `bench_fp_workers.py`'s. The first pair includes the warm-up; read the second.
"""
import sys
import psma_nb.core as core
from psma_nb.predict import _training_components
from bench_fp_workers import fit_inputs, in_turn

def fit(keep:bool):
    "The fit in two workers, with `KEEP_FREED` set to `keep`."
    core.KEEP_FREED = keep
    return _training_components(m, raw, labels, 26, workers=2)

if __name__ == '__main__':
    m, raw, labels = fit_inputs(sys.argv)
    in_turn({'glibc default': False, 'keep freed': True}, fit)
