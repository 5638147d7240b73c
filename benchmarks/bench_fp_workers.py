"""The false-positive filter's fit in worker processes: `_training_components` (every training scan and its scanner
variants predicted by the network, then the components' features) on N training scans with `workers=1` (this process,
PyTorch's threads on every core) against `workers=2` (two forked processes of one thread each, what `psma predict`
uses with the default settings), in turn (1, 2, 1, 2) in one process; the feature tables are asserted identical.

    .venv/bin/python benchmarks/bench_fp_workers.py MODEL_FOLDER RAW_DATASET [N]

MODEL_FOLDER: a trained model (e.g. work/demo/nnUNet_results/Dataset701_PSMA/nnUNetTrainer_psmaTiny__nnUNetPlans__3d_tiny),
RAW_DATASET: its nnU-Net raw dataset (work/demo/nnUNet_raw/Dataset701_PSMA), N training scans (default 4).
The first pair includes the warm-up; read the second.
"""
import resource, sys, time
from pathlib import Path
import pandas as pd
from psma_nb.predict import NnunetModel, _training_components

def fit_inputs(argv:list) -> tuple:
    "The model (predicting as `fit_fp_filter` does: no mirroring), its raw dataset and its first N training scans, from the command line."
    model_dir, raw = Path(argv[1]), Path(argv[2])
    n = int(argv[3]) if len(argv) > 3 else 4
    return NnunetModel(model_dir, mirroring='off'), raw, sorted((raw/'labelsTr').glob('*.nii.gz'))[:n]

def in_turn(variants:dict, run, same=pd.testing.assert_frame_equal,
            show=lambda t: f"{len(t)} components ({int(t.lesion.sum())} lesion)") -> dict:
    "`run(value)` for each of `variants` (name -> value), in turn a, b, a, b; every output asserted the same as the others (`same`), described by `show`; the times by name. Also the finished worker processes' page faults and system time."
    outs, times = {}, {k: [] for k in variants}
    for k in list(variants) * 2:
        r0, t = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
        out = run(variants[k])
        times[k].append(time.perf_counter() - t)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        print(f"{k}: {times[k][-1]:.1f} s, {show(out)}; worker processes' page faults {r1.ru_minflt - r0.ru_minflt:,}, "
              f"system time {r1.ru_stime - r0.ru_stime:.1f} s", flush=True)
        for o in outs.values(): same(o, out)
        outs[k] = out
    a, b = variants
    print(f"the same outputs: {a} / {b} = {times[a][0] / times[b][0]:.2f}x (with the warm-up), "
          f"{times[a][1] / times[b][1]:.2f}x (second pair)")
    return times

if __name__ == '__main__':
    m, raw, labels = fit_inputs(sys.argv)
    in_turn({'workers 1': 1, 'workers 2': 2}, lambda w: _training_components(m, raw, labels, 26, w))
