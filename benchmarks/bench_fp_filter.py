"""Cost of fitting the false-positive filter on the training scans and their scanner variants (`fit_fp_filter`,
`50_predict`: each training scan predicted as acquired and as `SCANNER_VARIANTS` show it) against fitting it on the
scans as acquired only (the release before), on the same training scans, in one process.

    .venv/bin/python benchmarks/bench_fp_filter.py MODEL_DIR RAW_DATASET [N]

MODEL_DIR is a trained model folder, RAW_DATASET the nnU-Net raw dataset it was trained on (imagesTr, labelsTr), N the
training scans to use (default 4, the first sorted). Nothing is written to the model folder. Reported: seconds per
training scan for each, and the ratio.
"""
import sys, time
from pathlib import Path
import psma_nb.predict as P

if __name__ == '__main__':
    model_dir, raw = Path(sys.argv[1]), Path(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    labels = sorted((raw/'labelsTr').glob('*.nii.gz'))[:n]
    m = P.NnunetModel(model_dir, device='cpu', mirroring='off')
    P._training_prediction(m, raw, labels[0].name[:-len('.nii.gz')], organs=False)   # warm-up: the first call is slower
    every, times = dict(P.SCANNER_VARIANTS), {}
    try:
        for name, variants in (('as acquired only', {'as acquired': every['as acquired']}), ('with scanner variants', every)):
            P.SCANNER_VARIANTS = variants            # what `_fp_variants` reads
            m.__dict__.pop('_training_memo', None)   # every scan predicted in both runs
            t = time.perf_counter(); comps = P._training_components(m, raw, labels, 26); times[name] = time.perf_counter() - t
            print(f"{name}: {len(variants)} predictions per training scan, {times[name] / n:.1f} s per training scan, "
                  f"{len(comps)} components ({int(comps.lesion.sum())} on lesions)")
    finally: P.SCANNER_VARIANTS = every
    print(f"ratio {times['with scanner variants'] / times['as acquired only']:.2f}")
