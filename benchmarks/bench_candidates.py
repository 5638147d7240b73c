"""Cost of the second look at local peaks (`psma predict --candidates auto`, `50_predict`): per scan, finding and
classifying the candidates (`add_candidates`) against the network's own prediction of the same scan (`NnunetModel`,
no mirroring, the lesion mask only), in one process; and fitting the classifier once per model (`fit_candidates`)
against predicting one scan. Both for candidates split at their saddles (`CAND_SPLIT_H`, the default) and for the
connected components of the candidate mask (`CAND_SPLIT_H = 0`, the rule before 6 December), each with its own fit.

    .venv/bin/python benchmarks/bench_candidates.py MODEL_DIR RAW_DATASET STUDY_DIR [STUDY_DIR ...]

MODEL_DIR is a trained model folder, RAW_DATASET the nnU-Net raw dataset it was trained on (imagesTr, labelsTr: the
classifier is fitted there, into a copy of the model folder's record so the model stays as it was), STUDY_DIR study
folders with SUV.nii.gz. Reported: seconds per scan (median of 3) and the ratios candidates / network.
"""
import pickle, shutil, sys, tempfile, time
from pathlib import Path
import numpy as np
import SimpleITK as sitk
from psma_nb.core import to_canonical
import psma_nb.predict as P
from psma_nb.predict import NnunetModel, add_candidates, fit_candidates, CAND_FILE, CAND_RECORD


def median_time(f, n=3):
    ts = []
    for _ in range(n):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return float(np.median(ts))


if __name__ == '__main__':
    model_dir, raw, studies = Path(sys.argv[1]), Path(sys.argv[2]), [Path(a) for a in sys.argv[3:]]
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp)/model_dir.name
        shutil.copytree(model_dir, copy, ignore=shutil.ignore_patterns(CAND_FILE, CAND_RECORD))
        m = NnunetModel(copy, device='cpu', mirroring='off')
        split, fits = P.CAND_SPLIT_H, {}
        for h in (split, 0.):   # each rule fitted into the copy, its classifier kept
            P.CAND_SPLIT_H = h
            t = time.perf_counter(); rec = fit_candidates(m, raw); t_fit = time.perf_counter() - t
            fits[h] = (rec, pickle.loads((copy/CAND_FILE).read_bytes()) if rec['usable'] else None, t_fit)
            print(f"CAND_SPLIT_H = {h:g}: fit on {rec['cases']} training scans x {rec['scans'] // max(rec['cases'], 1)} variants: "
                  f"{t_fit:.1f} s (threshold {rec['threshold']}, usable {rec['usable']}, {rec['lesion_candidates']} lesion and "
                  f"{rec['false_candidates']} false candidates)")
        net_s, cand_s = [], {h: [] for h in fits}
        for st in studies:
            suv = to_canonical(sitk.ReadImage(str(st/'SUV.nii.gz')))
            pred = m(dict(suv=suv), organs=False)
            mask, s, sp = sitk.GetArrayFromImage(pred.lesion), sitk.GetArrayFromImage(suv), suv.GetSpacing()[::-1]
            net_s.append(median_time(lambda: m(dict(suv=suv), organs=False)))
            for h, (rec, clf, _) in fits.items():
                P.CAND_SPLIT_H = h
                cand_s[h].append(median_time(lambda: add_candidates(mask, s, sp, clf, rec['threshold'])) if clf is not None else np.nan)
            print(f"{st.name}: {suv.GetSize()} voxels, network {net_s[-1]:.2f} s, candidates "
                  + ', '.join(f"{cand_s[h][-1]:.2f} s ({cand_s[h][-1] / net_s[-1]:.2f}x, CAND_SPLIT_H = {h:g})" for h in fits))
        P.CAND_SPLIT_H = split
        for h, (rec, clf, t_fit) in fits.items():
            print(f"CAND_SPLIT_H = {h:g}: mean per scan: network {np.mean(net_s):.2f} s, candidates {np.mean(cand_s[h]):.2f} s, "
                  f"ratio {np.mean(cand_s[h]) / np.mean(net_s):.2f}; fitting = {t_fit / np.mean(net_s):.1f} scans' network time")
        print(f"split / not split: candidates per scan {np.mean(cand_s[split]) / np.mean(cand_s[0.]):.2f}x, "
              f"fit {fits[split][2] / fits[0.][2]:.2f}x")
