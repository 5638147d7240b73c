"""The Hessian features of every component (`uptake_shape`, `50_predict`): the current code, which filters the crop
around the component's peak once per derivative order along z and then only the plane and the row through the peak,
against the definition it replaced, scipy's `gaussian_filter` of the whole crop for each of the seven derivatives
(`reference_uptake_shape` below), in turn in one process. Both give the same numbers bit for bit (checked).

    .venv/bin/python benchmarks/bench_uptake_shape.py STUDY_DIR [STUDY_DIR ...]

Per study (SUV.nii.gz): the feature rows of every candidate of `candidate_mask` (`candidate_rows`, what fitting the
candidate classifier and `add_candidates` compute; `component_features` does the same for the network's components),
median of 3 runs each way; reported: seconds, the ratio current / reference, and the share of `candidate_rows` that
`uptake_shape` took before.
"""
import sys, time
from pathlib import Path
import numpy as np
import SimpleITK as sitk
from scipy import ndimage as ndi
import psma_nb.predict as P
from psma_nb.core import to_canonical


def reference_uptake_shape(suv, point, spacing, sigma_mm):
    "`uptake_shape` as it was: one `gaussian_filter` of the whole crop per Hessian entry and one for the smoothed SUV."
    sp = np.asarray(spacing, float); s = sigma_mm / sp
    r = np.ceil(4 * s).astype(int) + 1
    box = tuple(slice(max(int(q) - k, 0), int(q) + k + 1) for q, k in zip(point, r))
    crop, c = np.asarray(suv[box], np.float64), tuple(int(q) - b.start for q, b in zip(point, box))
    h = np.empty((3, 3))
    for a in range(3):
        for b in range(a, 3):
            order = np.eye(3, dtype=int)[a] + np.eye(3, dtype=int)[b]
            h[a, b] = h[b, a] = ndi.gaussian_filter(crop, s, order=order, mode='nearest')[c] * sigma_mm**2 / (sp[a] * sp[b])
    ev = np.linalg.eigvalsh(h); ev = ev[np.argsort(np.abs(ev))]
    l3 = ev[2] if abs(ev[2]) > 1e-9 else -1e-9
    return float(ev[0] / l3), float(ev[1] / l3), float(-ev[2] / max(ndi.gaussian_filter(crop, s, mode='nearest')[c], 1e-3))


def timed(f, n=3):
    ts, out = [], None
    for _ in range(n):
        t = time.perf_counter(); out = f(); ts.append(time.perf_counter() - t)
    return float(np.median(ts)), out


if __name__ == '__main__':
    current, tot = P.uptake_shape, {'reference': 0., 'current': 0.}
    for st in map(Path, sys.argv[1:]):
        img = to_canonical(sitk.ReadImage(str(st/'SUV.nii.gz')))
        suv, sp = sitk.GetArrayFromImage(img), img.GetSpacing()[::-1]
        res = {}
        for name, fn in (('reference', reference_uptake_shape), ('current', current)):
            P.uptake_shape = fn
            res[name] = timed(lambda: P.candidate_rows(suv, sp))
        P.uptake_shape = current
        same = res['reference'][1][1].equals(res['current'][1][1]) and np.array_equal(res['reference'][1][0], res['current'][1][0])
        assert same, f"{st.name}: the feature rows differ"
        t0, t1 = res['reference'][0], res['current'][0]
        for k in tot: tot[k] += res[k][0]
        print(f"{st.name}: {len(res['current'][1][1])} candidates, candidate_rows {t0:.2f} -> {t1:.2f} s "
              f"(ratio {t1 / t0:.2f}), the same rows bit for bit")
    print(f"all: {tot['reference']:.2f} -> {tot['current']:.2f} s, ratio {tot['current'] / tot['reference']:.2f}")
