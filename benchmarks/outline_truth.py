"""The reader's-outline gain against a reference drawn another way: the lesions' true extent.

The phantom's reader draws `SEG.nii.gz` with the background-corrected 41 % rule (`REF_FRACTION`), the same
rule `31_outline` fits, so the outline's gain measured against `SEG` is partly the rule agreeing with itself.
`TRUTH.nii.gz` holds each lesion's true extent (the voxels where its true uptake profile is at least half of
its peak, before blurring and noise): no reader rule drew it. This script predicts the test scans of a
`psma demo` run folder with the outline on and off (no test-time mirroring, so the network's output is the
same for both), and scores both against `SEG` and against `TRUTH` restricted to the lesions the reader saw
(`in_reference` in `lesions.csv`: the lesions `SEG` holds).

    .venv/bin/python benchmarks/outline_truth.py RUN_FOLDER      # a folder `psma demo -o RUN_FOLDER` wrote

Reported: lesion sensitivity, PPV (TP, FP) and mean DSC per test set, for each outline and reference.
"""
import sys
from pathlib import Path
import numpy as np
import pandas as pd
import SimpleITK as sitk
from psma_nb.demo import demo_settings
from psma_nb.evaluate import cohort_view, centre_scores
from psma_nb.predict import predict


def truth_view(cohort:Path, dst:Path) -> Path:
    "A view of `cohort` whose SEG.nii.gz is the true extent of the lesions its SEG holds (links for the rest)."
    cohort_view(cohort, dst, skip=('SEG.nii.gz',))
    for d in sorted(p for p in cohort.iterdir() if (p/'SUV.nii.gz').exists()):
        truth = sitk.ReadImage(str(d/'TRUTH.nii.gz'))
        les = pd.read_csv(d/'lesions.csv')
        seen = les.lesion_id[les.in_reference.astype(bool)].to_numpy() if len(les) else []
        ref = sitk.GetImageFromArray(np.isin(sitk.GetArrayFromImage(truth), seen).astype(np.uint8))
        ref.CopyInformation(truth)
        sitk.WriteImage(ref, str(dst/d.name/'SEG.nii.gz'), True)
    return dst


if __name__ == '__main__':
    run = Path(sys.argv[1]); s = demo_settings(run); exp = run/'exp'/'outline_truth'
    truth = truth_view(run/'cohort', exp/'truth_reference')
    rows = []
    for outline in ('auto', 'off'):
        pred = exp/f'outline_{outline}'
        predict(run/'cohort', pred, settings=s, device='cpu', split='test', tta='off', outline=outline)
        for ref_name, ref in (('SEG (41 % rule)', run/'cohort'), ('TRUTH (true extent)', truth)):
            rows += [dict(outline=outline, reference=ref_name, **r) for r in centre_scores(ref, pred, workers=2).to_dict('records')]
    t = pd.DataFrame(rows)
    print(t.round(3).to_string(index=False))
    print(t.pivot_table(index=['reference', 'test_set'], columns='outline', values='dsc').round(3).to_string())
