"""Cheaper ways to fit the false-positive filter, measured on the test sets: are they as good as the four predictions per
training scan `fit_fp_filter` makes (`50_predict`: each training scan as acquired and as the three `SCANNER_VARIANTS`)?

Not a speed but what a speed-up would cost. The network's predictions on every training scan and variant are made
once and their components kept; each scheme then fits the filter on its share of them (the threshold by the same
90 % rule), and `psma predict`'s own path predicts the cohort's test scans with it (organ maps hidden, no mirroring,
candidates on; the network's output on a test scan is computed once and reused across schemes). Schemes:

- `all`: today's fit, four predictions per training scan;
- `masked`: the same, but the blurred variants keep the scan's air (voxels exactly 0) at 0, so nnU-Net crops them to
  the same box as the scan and predicts fewer windows;
- `in_turn`: each scan as acquired and one masked variant, the three in turn (two predictions per scan);
- `half`: every other scan one masked variant, in turn (1.5 predictions per scan).

    .venv/bin/python benchmarks/fp_filter_schemes.py WORK COHORT OUT

WORK is a work folder holding `nnUNet_raw` and `nnUNet_results` (e.g. a `psma demo -o WORK` run folder), COHORT the
cohort it was trained on (with `ORGANS.nii.gz`, for scoring; the model is given a view without them), OUT a scratch
folder. Reported: seconds per prediction of each variant, the filter's threshold and cross-validated effect, and
lesion sensitivity / PPV (TP, FP) / mean DSC per test set and scheme, and the PSMA-negative scans' false-positive volume.
Nothing is written to WORK.
"""
import hashlib, json, sys, time
from pathlib import Path
import numpy as np, pandas as pd, SimpleITK as sitk
import psma_nb.predict as P
from psma_nb.config import load_settings
from psma_nb.evaluate import centre_scores, cohort_view

SCHEMES = ('all', 'masked', 'in_turn', 'half')
OTHER = ('blurred 6 mm', 'coarse 5.3 mm', 'fine 2.7 mm')

def masked_variant(suv, ref, blur_mm=0., voxel_mm=None):
    "`scanner_variant`, the blur keeping the scan's exact zeros (air) at zero."
    if blur_mm: suv = sitk.Mask(sitk.SmoothingRecursiveGaussian(suv, blur_mm / 2.3548), suv != 0)
    return P.scanner_variant(suv, ref, 0., voxel_mm)

def components(model, raw:Path, labels:list) -> tuple[pd.DataFrame, pd.DataFrame]:
    "Components of every training scan, every variant, plain and masked (where masking changes it); seconds per prediction."
    out, times = [], []
    for lf in P.progress(labels, 'training scans', unit='case'):
        case = lf.name[:-len('.nii.gz')]
        suv0, ref0 = sitk.ReadImage(str(raw/'imagesTr'/f'{case}_0000.nii.gz')), sitk.ReadImage(str(lf))
        todo = [(n, bv, P.scanner_variant) for n, bv in P.SCANNER_VARIANTS.items()] + \
               [(n + ' masked', bv, masked_variant) for n, bv in P.SCANNER_VARIANTS.items() if bv[0] > 0]
        for name, (blur, voxel), f in todo:
            suv, ref = f(suv0, ref0, blur, voxel)
            t = time.perf_counter(); les = sitk.GetArrayFromImage(model(dict(suv=suv), organs=False).lesion) > 0
            times.append(dict(variant=name, seconds=time.perf_counter() - t, windows=model.predictor.stats['windows']))
            s, sp = sitk.GetArrayFromImage(suv), suv.GetSpacing()[::-1]
            m = P.drop_components(les.astype(np.uint8), s, sp, 0., P.NNUNET_MIN_SUVMAX, 26)
            lab, fe = P.component_features(m, s, sp, 26)
            hit = np.unique(lab[sitk.GetArrayFromImage(ref) == P.LESION_LABEL])
            out.append(fe.assign(case=case, variant=name, lesion=fe.component.isin(hit)))
    return pd.concat(out, ignore_index=True), pd.DataFrame(times)

def scheme_rows(t:pd.DataFrame, scheme:str) -> pd.DataFrame:
    "The components a scheme fits on (scan i: its i-th place in sorted order)."
    i = t.case.map({c: k for k, c in enumerate(sorted(t.case.unique()))})
    masked = ['blurred 6 mm masked', 'coarse 5.3 mm masked', 'fine 2.7 mm']
    if scheme == 'all': return t[t.variant.isin(('as acquired',) + OTHER)]
    if scheme == 'masked': return t[t.variant.isin(['as acquired'] + masked)]
    if scheme == 'in_turn': want = i.map(lambda k: masked[k % 3])
    elif scheme == 'half': want = i.map(lambda k: masked[(k // 2) % 3] if k % 2 == 0 else '')
    else: raise ValueError(scheme)
    return t[(t.variant == 'as acquired') | (t.variant == want)]

if __name__ == '__main__':
    work, cohort, out = (Path(a).resolve() for a in sys.argv[1:4])
    s = load_settings(environ={'PSMA_WORK_DIR': str(work)})
    M = next(Path(s.nnunet_results).glob('*/*/fold_*')).parent
    raw = Path(s.nnunet_raw)/M.parent.name
    bare = cohort_view(cohort, out/'bare')   # the cohort without its organ maps
    model = P.NnunetModel(M, device='cpu', mirroring='off')
    comp, times = components(model, raw, sorted((raw/'labelsTr').glob('*.nii.gz'))[:P.FP_FILTER_CASES])
    print(times.groupby('variant')[['seconds', 'windows']].mean().round(2).to_string(), flush=True)
    memo, call = {}, P.NnunetModel.__call__
    def memo_call(self, images, organs=True, probability=False):   # a test scan's network output: once for all schemes
        key = (hashlib.sha1(sitk.GetArrayViewFromImage(images["suv"]).tobytes()).hexdigest(), images["suv"].GetSpacing(), organs, probability)
        if key not in memo: memo[key] = call(self, images, organs, probability)
        return memo[key]
    P.NnunetModel.__call__ = memo_call
    rows = []
    for sc in SCHEMES:
        md = out/'models'/sc/M.parent.name/M.name   # the model folder's files, without a fitted filter
        md.mkdir(parents=True, exist_ok=True)
        for f in M.iterdir():
            if not f.name.startswith('psma_fp_filter') and not (md/f.name).exists(): (md/f.name).symlink_to(f)
        P._training_components = lambda model, raw, labels, conn, sc=sc: scheme_rows(
            comp[comp.case.isin([l.name[:-len('.nii.gz')] for l in labels])], sc).reset_index(drop=True)
        pred = out/'pred'/sc
        P.predict(bare, pred, 'nnunet', model_dir=md, settings=s, split='test', tta='off', device='cpu')
        r = centre_scores(cohort, pred, workers=2)   # with the PSMA-negative scans per test set, pooled below
        n_neg = int(r.negatives.sum())
        rec = json.loads((pred/'predict.json').read_text())['fp_filter_record']; cv = rec.get('cross_validated', {})
        rows.append(r.assign(scheme=sc, threshold=rec.get('threshold'),
                             cv_kept=f"{cv.get('lesion_components_kept')}/{rec.get('lesion_components')} lesion, "
                                     f"{cv.get('false_components_kept')}/{rec.get('false_components')} false",
                             negatives_fp_ml=(r.negative_fpv_ml * r.negatives).sum() / n_neg if n_neg else np.nan,
                             negatives_called=f"{int(r.called_positive.sum())}/{n_neg}"))
    res = pd.concat(rows, ignore_index=True)
    res.to_csv(out/'schemes.csv', index=False)
    print(res.round(3).to_string())
