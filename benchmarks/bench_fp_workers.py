"""The false-positive filter's fit in worker processes: `_training_components` (every training scan and its scanner
variants predicted by the network, then the components' features) on N training scans with `workers=1` (this process,
PyTorch's threads on every core) against `workers=2` (two forked processes of one thread each, what `psma predict`
uses with the default settings), in turn (1, 2, 1, 2) in one process; the feature tables are asserted identical.

    .venv/bin/python benchmarks/bench_fp_workers.py MODEL_FOLDER RAW_DATASET [N]

MODEL_FOLDER: a trained model (e.g. work/demo/nnUNet_results/Dataset701_PSMA/nnUNetTrainer_psmaTiny__nnUNetPlans__3d_tiny),
RAW_DATASET: its nnU-Net raw dataset (work/demo/nnUNet_raw/Dataset701_PSMA), N training scans (default 4).
The first pair includes the warm-up; read the second.
"""
import sys, time
from pathlib import Path
import pandas as pd
from psma_nb.predict import NnunetModel, _training_components

if __name__ == '__main__':
    model_dir, raw = Path(sys.argv[1]), Path(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    m = NnunetModel(model_dir, mirroring='off')   # as fit_fp_filter predicts
    labels = sorted((raw/'labelsTr').glob('*.nii.gz'))[:n]
    tables, times = {}, {1: [], 2: []}
    for w in (1, 2, 1, 2):
        t = time.perf_counter(); tab = _training_components(m, raw, labels, 26, w); times[w].append(time.perf_counter() - t)
        print(f"workers {w}: {times[w][-1]:.1f} s, {len(tab)} components ({int(tab.lesion.sum())} lesion)", flush=True)
        if w in tables: pd.testing.assert_frame_equal(tables[w], tab)
        tables[w] = tab
    pd.testing.assert_frame_equal(tables[1], tables[2])
    print(f"identical tables; {n} training scans: workers 1 / workers 2 = {times[1][0] / times[2][0]:.2f}x (with the warm-up), "
          f"{times[1][1] / times[2][1]:.2f}x (second pair)")
