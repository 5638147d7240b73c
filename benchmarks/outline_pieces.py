"""Not a speed: the reader's outline keeping only the pieces that are hot spots of their own (`split_h`, 31_outline).

Where the uptake dips inside a predicted component, the outline at the rule's level leaves several pieces, and
`psma evaluate` counts each. Since 7 December a piece other than the peak's is kept only where it holds a peak of the
smoothed SUV rising `PEAK_SPLIT_H` above its saddle (`own_peaks`); before, every piece was kept. This script measures
both on the same network masks: the three float32 models of `benchmarks/float32_runs.py` (its OUT folder) predict,
organ maps hidden and without mirroring, with the outline off (`psma predict --no-tta --outline off`): their own 28
test scans each, and every scan of two cohorts none of them saw (`psma phantom` seeds 29 and 31, 52 scans each);
each network mask is then drawn by the model's rule as `psma predict` draws it (`postprocess`) with `split_h` 0 (the
rule before) and `PEAK_SPLIT_H` (today's), and scored by `centre_scores` (lesion TP, FP, mean DSC per test set).

    .venv/bin/python benchmarks/float32_runs.py OUT --emulate-avx2       # first: the three models
    .venv/bin/python benchmarks/outline_pieces.py OUT [--emulate-avx2]   # 33 min on 2 cores (AMD EPYC family 26, AVX2 emulated)

Written to OUT/outline_pieces.csv and OUT/outline_pieces_dropped.csv; printed: the table, TP/FP summed per cohort and
rule, and every piece today's rule drops (its scan, voxels, SUVmax, whether it touches a reference lesion).
"""
import os, json, sys
from pathlib import Path

if '--emulate-avx2' in sys.argv:
    os.environ.update(ONEDNN_MAX_CPU_ISA='AVX2', ATEN_CPU_CAPABILITY='avx2', PSMA_BF16='0')
else: os.environ.setdefault('PSMA_BF16', '0')

import cc3d
import numpy as np
import pandas as pd
import SimpleITK as sitk
from psma_nb.config import load_settings
from psma_nb.core import parallel_map
from psma_nb.evaluate import cohort_view, centre_scores
from psma_nb.outline import PEAK_SPLIT_H, outline_rule
from psma_nb.phantom import make_cohort
from psma_nb.predict import postprocess, predict

MODEL = Path('nnUNet_results')/'Dataset701_PSMA'/'nnUNetTrainer_psmaTiny__nnUNetPlans__3d_tiny'
RULES = {'every piece (before)': 0., 'own hot spots (today)': PEAK_SPLIT_H}


def redraw(job) -> None:
    "One network mask drawn by the model's rule with the given `split_h`, as `psma predict` draws it."
    net, suv_f, out_f, rule, floor = job
    img = sitk.ReadImage(str(suv_f))
    m = postprocess(sitk.GetArrayFromImage(sitk.ReadImage(str(net))), sitk.GetArrayFromImage(img), img.GetSpacing()[::-1],
                    floor[0], floor[1], 26, None, rule)
    o = sitk.GetImageFromArray(m.astype(np.uint8)); o.CopyInformation(img); sitk.WriteImage(o, str(out_f), True)


def dropped(cohort:Path, before:Path, today:Path) -> pd.DataFrame:
    "The pieces in the masks of `before` and not in `today`'s: scan, voxels, SUVmax, whether a reference lesion touches them."
    rows = []
    for f in sorted(before.glob('*.nii.gz')):
        case = f.name[:-len('.nii.gz')]
        gone = (sitk.GetArrayFromImage(sitk.ReadImage(str(f))) > 0) & ~(sitk.GetArrayFromImage(sitk.ReadImage(str(today/f.name))) > 0)
        if not gone.any(): continue
        suv = sitk.GetArrayFromImage(sitk.ReadImage(str(cohort/case/'SUV.nii.gz')))
        ref = sitk.GetArrayFromImage(sitk.ReadImage(str(cohort/case/'SEG.nii.gz'))) > 0
        lab = cc3d.connected_components(gone, connectivity=26)
        rows += [dict(case=case, voxels=int((lab == i).sum()), suvmax=float(suv[lab == i].max()), lesion=bool(ref[lab == i].any()))
                 for i in range(1, int(lab.max()) + 1)]
    return pd.DataFrame(rows, columns=['case', 'voxels', 'suvmax', 'lesion'])


def score(out:Path, cohort:Path, name:str, key:str, model_dir:Path, settings, split) -> tuple[pd.DataFrame, pd.DataFrame]:
    "The model's network masks on `cohort` (outline off; its view `name`_bare), drawn by each of `RULES`, scored; and the pieces today's rule drops."
    view, net = cohort_view(cohort, out/f'{name}_bare'), out/'outline_pieces'/f'{name}_{key.replace(" ", "_")}_network'
    predict(view, net, model_dir=model_dir, settings=settings, device='cpu', split=split, tta='off', outline='off')
    rec = json.loads((net/'predict.json').read_text())
    rows, drawn_by = [], {}
    for rule_name, h in RULES.items():
        drawn = net.parent/f'{net.name[:-len("_network")]}_{h:g}'; drawn.mkdir(parents=True, exist_ok=True)
        rule = dict(outline_rule(model_dir), split_h=h)
        cases = sorted(p.name[:-len('.nii.gz')] for p in net.glob('*.nii.gz'))
        parallel_map(redraw, [(net/f'{c}.nii.gz', view/c/'SUV.nii.gz', drawn/f'{c}.nii.gz', rule,
                               (rec['min_volume_ml'], rec['min_suvmax'])) for c in cases], 2, 'outline', unit='case')
        rows.append(centre_scores(cohort, drawn, split=split, workers=2).assign(model=key, cohort=name, rule=rule_name))
        drawn_by[h] = drawn
    return pd.concat(rows), dropped(cohort, drawn_by[0.], drawn_by[PEAK_SPLIT_H]).assign(model=key, cohort=name)


def main(out:Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    s1 = load_settings(environ={'PSMA_WORK_DIR': str(out/'seed1'), 'PSMA_SEED': '1'})
    seed1 = next((out/'seed1'/'nnUNet_results').glob('*/*/fold_all')).parent
    models = {'default seed': (out/'demo_avx2', out/'demo_avx2'/MODEL, None), 'training seed 1': (out/'demo_avx2', seed1, s1),
              'seed-7 cohort': (out/'demo_avx2_seed7', out/'demo_avx2_seed7'/MODEL, None)}
    fresh = []
    for seed in (29, 31):   # cohorts made after every choice: every scan is unseen by all three models
        c = out/f'seed{seed}'
        if not (c/'cohort.csv').exists(): make_cohort(c, seed=seed, workers=2)
        fresh.append(c)
    rows = [score(out, run/'cohort', run.name, key, md, s, 'test') for key, (run, md, s) in models.items()]
    rows += [score(out, c, c.name, key, md, s, None) for c in fresh for key, (run, md, s) in models.items()]
    r, d = (pd.concat(t, ignore_index=True) for t in zip(*rows))
    r.to_csv(out/'outline_pieces.csv', index=False); d.to_csv(out/'outline_pieces_dropped.csv', index=False)
    return r, d


if __name__ == '__main__':
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    if len(args) != 1: sys.exit(__doc__)
    r, d = main(Path(args[0]))
    print(r[['cohort', 'model', 'test_set', 'rule', 'sensitivity', 'ppv', 'tp', 'fp', 'dsc']].round(3).to_string(index=False))
    print(r.groupby(['cohort', 'rule'], sort=False)[['tp', 'fp']].sum().to_string())
    print(d[['cohort', 'model', 'case', 'voxels', 'suvmax', 'lesion']].round(2).to_string(index=False))
