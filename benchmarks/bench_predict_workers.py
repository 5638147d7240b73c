"""`psma predict` (the nnunet method) on N test scans in one process (`workers=1`: PyTorch's threads on every core, the
release before) against two forked processes of one thread each (`workers=2`, the default settings on a CPU), in turn
(1, 2, 1, 2) from one process; the masks are asserted byte-identical. Kept filters in the model folder are used as
they are (run `psma demo` or one `psma predict` first, or the first pair includes the filters' fit).

    .venv/bin/python benchmarks/bench_predict_workers.py MODEL_FOLDER COHORT [N]

MODEL_FOLDER: a trained model (e.g. work/demo/nnUNet_results/Dataset701_PSMA/nnUNetTrainer_psmaTiny__nnUNetPlans__3d_tiny),
COHORT: its study folders (work/demo/cohort, with cohort.csv), N: test scans spread over the centres (default 8), copied
to a scratch folder.
Prediction without mirroring, as `psma demo` runs it on a CPU without bfloat16. Read the second pair.
"""
import shutil, sys, time
from pathlib import Path
from psma_nb.config import load_settings, scratch_dir
from psma_nb.predict import predict
import pandas as pd

if __name__ == '__main__':
    model_dir, cohort = Path(sys.argv[1]), Path(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    tmp = scratch_dir()
    test = sorted(pd.read_csv(cohort/'cohort.csv').query("split == 'test'").case)
    cases = test[::max(len(test) // n, 1)][:n]   # spread over the centres
    for c in cases: shutil.copytree(cohort/c, tmp/'in'/c)
    masks, times = {}, {1: [], 2: []}
    for w in (1, 2, 1, 2):
        s = load_settings(environ={'PSMA_WORK_DIR': str(tmp/'work'), 'PSMA_WORKERS': str(w), 'PSMA_QUIET': '1'})
        t = time.perf_counter()
        predict(tmp/'in', tmp/f'out{w}', 'nnunet', settings=s, model_dir=model_dir, device='cpu', tta='off', overwrite=True)
        times[w].append(time.perf_counter() - t)
        got = {f.name: f.read_bytes() for f in sorted((tmp/f'out{w}').glob('*.nii.gz'))}
        print(f"workers {w}: {times[w][-1]:.1f} s for {len(got)} scans", flush=True)
        assert len(got) == len(cases) and masks.get(w, got) == got
        masks[w] = got
    assert masks[1] == masks[2]
    print(f"identical masks; {len(cases)} test scans: workers 1 / workers 2 = {times[1][0] / times[2][0]:.2f}x (first pair), "
          f"{times[1][1] / times[2][1]:.2f}x (second pair)")
