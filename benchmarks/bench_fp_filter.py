"""Cost of fitting the false-positive filter on the training scans and their scanner variants (`fit_fp_filter`,
`50_predict`: each training scan predicted as acquired and as `SCANNER_VARIANTS` show it), against fitting it on the
scans as acquired only (two releases before) and on the variants without the model's organ map (the release before
`ORGAN_FEATURES`: no export, tidying and redrawing of the organ map per prediction), on the same training scans, in one
process.

    .venv/bin/python benchmarks/bench_fp_filter.py MODEL_DIR RAW_DATASET [N]

MODEL_DIR is a trained model folder, RAW_DATASET the nnU-Net raw dataset it was trained on (imagesTr, labelsTr), N the
training scans to use (default 4, the first sorted). Nothing is written to the model folder. Reported: seconds per
training scan for each, and the ratios.
"""
import sys, time
from pathlib import Path
import psma_nb.predict as P

if __name__ == '__main__':
    model_dir, raw = Path(sys.argv[1]), Path(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    labels = sorted((raw/'labelsTr').glob('*.nii.gz'))[:n]
    m = P.NnunetModel(model_dir, device='cpu', mirroring='off')
    P._training_prediction(m, raw, labels[0].name[:-len('.nii.gz')])   # warm-up: the first call is slower
    every, organs, times = dict(P.SCANNER_VARIANTS), m.organ_labels, {}
    runs = (('as acquired only', {'as acquired': every['as acquired']}, {}), ('with scanner variants', every, {}),
            ('with scanner variants and organ map', every, organs))
    try:
        for name, variants, labels_ in runs:
            P.SCANNER_VARIANTS, m.organ_labels = variants, labels_   # what `_fp_variants` and `_training_case` read
            m.__dict__.pop('_training_memo', None)   # every scan predicted in every run
            t = time.perf_counter(); comps = P._training_components(m, raw, labels, 26); times[name] = time.perf_counter() - t
            print(f"{name}: {len(variants)} predictions per training scan, {times[name] / n:.1f} s per training scan, "
                  f"{len(comps)} components ({int(comps.lesion.sum())} on lesions), "
                  f"organ features {'NaN' if comps[list(P.ORGAN_FEATURES)].isna().all().all() else 'read'}")
    finally: P.SCANNER_VARIANTS, m.organ_labels = every, organs
    print(f"ratio variants / as acquired {times['with scanner variants'] / times['as acquired only']:.2f}; "
          f"organ map / without {times['with scanner variants and organ map'] / times['with scanner variants']:.2f}")
