"""Not a speed: issue 16's three runs as a user without native bfloat16 gets them, organ maps hidden at prediction.

Issue 16 asks for the lesion targets on three runs trained in float32: the default study, training seed 1 on the
same cohort, and the cohort of `psma demo --seed 7`. This script makes them as a user would and scores them as the
issue measures them:

1. `psma demo -o OUT/demo_avx2` and `psma demo --seed 7 -o OUT/demo_avx2_seed7` (each skips the stages it finished);
2. `psma train` with training seed 1 on a copy of the default demo's nnU-Net dataset (OUT/seed1);
3. each model predicts its cohort's 28 test scans once, from a view without `ORGANS.nii.gz` (`cohort_view`), no
   test-time mirroring, its organ map written too (`psma predict --no-tta --organs-out`); the first prediction of a
   model fits its false-positive filter and candidates on its training scans, in float32 like everything else here;
   scored by `centre_scores` (`psma evaluate`'s lesion numbers: 26-connectivity, any voxel), the false-positive
   volume on the PSMA-negative scans, and the organ Dice per group.

With `--emulate-avx2` (set before torch is imported) PyTorch and oneDNN keep to AVX2 kernels and bf16 is off
(`ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 PSMA_BF16=0`): float32 on a host that has bf16. Without it the
host's own arithmetic is used (float32 only where it has no native bf16).

    .venv/bin/python benchmarks/float32_runs.py OUT [--emulate-avx2] [--tta auto]   # about an hour on 2 cores

`--tta auto` predicts as `psma predict` does by default on a CPU (focused mirroring: the mirrored passes only in boxes
around candidate lesions) instead of `--no-tta`; its predictions and tables get the suffix `_focused` (the models are
the same: a second call with the same OUT only predicts and scores).

Reported: lesion sensitivity, PPV (TP, FP), mean DSC, and the PSMA-negative test scans called positive with their
mean false-positive volume, per model and test set (also written to OUT/float32_runs.csv); then the organ Dice of
the map `psma predict --organs-out` writes (tidied and redrawn by the PET), per organ group and test set, against the
phantom's `ORGANS.nii.gz` (centre 2's, which the demo converts from DICOM without one, from a cohort of the same
seed: `psma phantom` makes the same scans; OUT/float32_organs.csv).
"""
import os, shutil, subprocess, sys, time
from pathlib import Path

if '--emulate-avx2' in sys.argv:
    os.environ.update(ONEDNN_MAX_CPU_ISA='AVX2', ATEN_CPU_CAPABILITY='avx2', PSMA_BF16='0')
else: os.environ.setdefault('PSMA_BF16', '0')

import pandas as pd
import SimpleITK as sitk
from psma_nb.config import load_settings
from psma_nb.evaluate import cohort_view, centre_scores
from psma_nb.organs import to_groups, group_dice
from psma_nb.phantom import make_cohort
from psma_nb.predict import predict
from psma_nb.train import train

MODEL = Path('nnUNet_results')/'Dataset701_PSMA'/'nnUNetTrainer_psmaTiny__nnUNetPlans__3d_tiny'


TTA = 'auto' if '--tta' in sys.argv and sys.argv[sys.argv.index('--tta') + 1:][:1] == ['auto'] else 'off'
SUFFIX = '_focused' if TTA == 'auto' else ''


def score_run(out:Path, run:Path, model_dir:Path, key:str, name:str, seed:int, settings=None) -> tuple:
    """(lesion scores per test set, organ Dice per test scan and group) of one model: its cohort's test scans predicted
    once, without their organ maps, with `--organs-out` (the lesion masks are the same with and without it)."""
    view, pred = cohort_view(run/'cohort', out/f'{run.name}_bare'), out/f'{key}_pred_organs{SUFFIX}'
    t = time.perf_counter()   # the 28 test scans (a first prediction also fits the model's filter and candidates)
    predict(view, pred, model_dir=model_dir, settings=settings, device='cpu', split='test', tta=TTA, organs_out=True)
    lesions = centre_scores(view, pred, workers=2).assign(model=name, predict_s=round(time.perf_counter() - t))   # with the negatives' false-positive volume
    maps = out/f'centre2_organs_{seed}'   # centre 2 reaches the demo as DICOM, without an organ map: the phantom's own
    if not (maps/'cohort.csv').exists(): make_cohort(maps, seed=seed, centres=['centre2'], workers=2)
    co, rows = pd.read_csv(view/'cohort.csv'), []
    for case, centre in zip(co.case[co.split == 'test'], co.centre[co.split == 'test']):
        f = next((d/case/'ORGANS.nii.gz' for d in (run/'cohort', maps) if (d/case/'ORGANS.nii.gz').exists()), None)
        if f is None: continue
        ref = to_groups(sitk.GetArrayFromImage(sitk.ReadImage(str(f))))
        g = sitk.GetArrayFromImage(sitk.ReadImage(str(pred/f'{case}_organs.nii.gz')))
        rows += [dict(model=name, test_set='internal' if centre == 'centre1' else centre, case=case, group=o, dice=d)
                 for o, d in group_dice(ref, g).items()]
    return lesions, pd.DataFrame(rows)


def main(out:Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    "(lesion scores, organ Dice) of the three runs, made in `out` where not made already."
    psma = Path(sys.executable).parent/'psma'
    for folder, extra in (('demo_avx2', []), ('demo_avx2_seed7', ['--seed', '7'])):
        subprocess.run([str(psma), 'demo', '-o', str(out/folder), *extra], check=True)
    s1 = load_settings(environ={'PSMA_WORK_DIR': str(out/'seed1'), 'PSMA_SEED': '1'})
    for d in ('nnUNet_raw', 'nnUNet_preprocessed'):   # the default demo's dataset, trained again with seed 1
        if not (out/'seed1'/d).exists(): shutil.copytree(out/'demo_avx2'/d, out/'seed1'/d, symlinks=True)
    fold = train(s1, 'tiny', 'all', 'cpu')
    runs = [score_run(out, out/'demo_avx2', out/'demo_avx2'/MODEL, 'default', 'default seed', 2024),
            score_run(out, out/'demo_avx2', fold.parent, 'seed1', 'training seed 1', 2024, settings=s1),
            score_run(out, out/'demo_avx2_seed7', out/'demo_avx2_seed7'/MODEL, 'seed7', 'seed-7 cohort', 7)]
    r, o = (pd.concat(t) for t in zip(*runs))
    r.to_csv(out/f'float32_runs{SUFFIX}.csv', index=False); o.to_csv(out/f'float32_organs{SUFFIX}.csv', index=False)
    return r, o


if __name__ == '__main__':
    args = [a for a in sys.argv[1:] if not a.startswith('--') and a != 'auto']
    if len(args) != 1: sys.exit(__doc__)
    r, o = main(Path(args[0]))
    print(r.assign(targets_met=(r.sensitivity >= 0.80) & (r.ppv >= 0.85)).round(3).to_string(index=False))
    means = lambda t: t[t.group.isin(['kidneys', 'liver', 'bladder', 'spleen'])].groupby(['model', 'group', 'test_set']).dice.mean()
    print(means(o).unstack().round(3).to_string())
    print(f"organ-and-set means >= 0.80: {int((means(o) >= 0.8).sum())} of {len(means(o))}")
    other = Path(args[0])/'float32_organs.csv'   # with --tta auto: against the run without mirroring, when it is there
    if SUFFIX and other.is_file():
        d = (means(o) - means(pd.read_csv(other))).abs()
        print(f"without mirroring: {int((means(pd.read_csv(other)) >= 0.8).sum())} of them; the largest change {d.max():.3f} ({', '.join(d.idxmax())})")
