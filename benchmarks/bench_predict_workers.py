"""`psma predict` (the nnunet method) on N test scans in one process (`workers=1`: PyTorch's threads on every core, the
release before) against two forked processes of one thread each (`workers=2`, the default settings on a CPU), in turn
(1, 2, 1, 2) from one process (`bench_fp_workers.in_turn`); the masks are asserted byte-identical. Kept filters in the model folder are used as
they are (run `psma demo` or one `psma predict` first, or the first pair includes the filters' fit).

    .venv/bin/python benchmarks/bench_predict_workers.py MODEL_FOLDER COHORT [N]

MODEL_FOLDER: a trained model (e.g. work/demo/nnUNet_results/Dataset701_PSMA/nnUNetTrainer_psmaTiny__nnUNetPlans__3d_tiny),
COHORT: its study folders (work/demo/cohort, with cohort.csv), N: test scans spread over the centres (default 8), copied
to a scratch folder.
Prediction without mirroring, as `psma demo` runs it on a CPU without bfloat16. Read the second pair.
"""
import shutil, sys
from pathlib import Path
from psma_nb.config import load_settings, scratch_dir
from psma_nb.predict import predict
import pandas as pd
from bench_fp_workers import in_turn

if __name__ == '__main__':
    model_dir, cohort = Path(sys.argv[1]), Path(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    tmp = scratch_dir()
    test = sorted(pd.read_csv(cohort/'cohort.csv').query("split == 'test'").case)
    cases = test[::max(len(test) // n, 1)][:n]   # spread over the centres
    for c in cases: shutil.copytree(cohort/c, tmp/'in'/c)

    def run(w:int) -> dict:
        "The cases predicted with `workers` = w: each mask file's bytes."
        s = load_settings(environ={'PSMA_WORK_DIR': str(tmp/'work'), 'PSMA_WORKERS': str(w), 'PSMA_QUIET': '1'})
        predict(tmp/'in', tmp/f'out{w}', 'nnunet', settings=s, model_dir=model_dir, device='cpu', tta='off', overwrite=True)
        got = {f.name: f.read_bytes() for f in sorted((tmp/f'out{w}').glob('*.nii.gz'))}
        assert len(got) == len(cases)
        return got

    def same(a, b): assert a == b, "the masks differ"
    in_turn({'workers 1': 1, 'workers 2': 2}, run, same, show=lambda got: f"{len(got)} scans")
