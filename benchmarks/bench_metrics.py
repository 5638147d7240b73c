"""Speed and memory of one whole-body evaluation (psma_nb.evaluate.evaluate_arrays).

A synthetic whole-body pair of 20 M voxels (500 x 200 x 200, 3 x 4 x 4 mm) with 150 reference lesions and
about 150 predicted components (shifted / grown / shrunk copies, misses and false positives), an SUV volume
and an organ label map for sites. Measured in one process, pinned to one core:

- `evaluate_arrays`: every per-case metric (voxel, lesion TP/FP/FN with matching, autoPET FPV/FNV), both
  lesion tables (volume, centroid, SUVmax/mean/peak, TL-PSMA, site) and the biomarker totals;
- the naive approach on the same data: loop over components and test each one against the whole volume
  (a full-volume mask per component for its measures, matching and site, and autoPET's own FPV/FNV loop);
- peak memory of numpy allocations during `evaluate_arrays` (tracemalloc) relative to the SUV volume.

Both paths must give the same numbers (checked). Run: `.venv/bin/python benchmarks/bench_metrics.py`.
Targets (issue #5): <= 1 s, >= 10x faster than naive, peak <= 4x the SUV volume.
"""
import os
for _v in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'): os.environ[_v] = '1'
import time, tracemalloc, statistics
import numpy as np
import cc3d
from scipy import ndimage as ndi
from psma_nb.evaluate import evaluate_arrays
from psma_nb.lesions import sphere_offsets

SHAPE, SPACING, N_LESIONS, SEED = (500, 200, 200), (3.0, 4.0, 4.0), 150, 2024

def ball(r):
    z, y, x = np.ogrid[-r:r + 1, -r:r + 1, -r:r + 1]
    return (z * z + y * y + x * x) <= r * r

def make_pair(seed=SEED):
    "Reference, prediction, SUV and organ map of a synthetic whole-body scan."
    rng = np.random.default_rng(seed)
    ref, pred = np.zeros(SHAPE, np.uint8), np.zeros(SHAPE, np.uint8)
    organs = np.zeros(SHAPE, np.uint8); organs[:, 60:140, 60:140] = 1; organs[350:420, 80:120, 80:120] = 2
    suv = rng.gamma(4.0, 0.25, SHAPE).astype(np.float32)
    centres = []
    while len(centres) < N_LESIONS:                 # well separated lesions: exactly N_LESIONS components
        c = rng.integers([8, 8, 8], np.array(SHAPE) - 8)
        if all(np.abs(c - d).max() > 14 for d in centres): centres.append(c)
    for i, c in enumerate(centres):
        r = int(rng.integers(1, 6))
        sl = tuple(slice(ci - r, ci + r + 1) for ci in c)
        ref[sl] |= ball(r)
        suv[sl][ball(r)] += rng.uniform(3, 30)
        kind = i % 10
        if kind == 0: continue                                    # missed (FN)
        rp = max(1, r + (1 if kind == 1 else -1 if kind == 2 else 0))
        cp = c + rng.integers(-1, 2, 3)
        pred[tuple(slice(ci - rp, ci + rp + 1) for ci in cp)] |= ball(rp)
    while int(cc3d.connected_components(pred, connectivity=26).max()) < N_LESIONS:   # false positives
        c = rng.integers([6, 6, 6], np.array(SHAPE) - 6)
        if all(np.abs(c - d).max() > 12 for d in centres):
            pred[tuple(slice(ci - 2, ci + 3) for ci in c)] |= ball(2)
    return ref, pred, suv, organs

def _site(counts):
    "Most overlapped non-zero label (0 when none), as lesions.dominant_label defines it."
    return int(counts[1:].argmax()) + 1 if counts[1:].any() else 0

def naive(ref, pred, suv, organs, spacing=SPACING, connectivity=26):
    "The same numbers, one whole-volume pass per component (the slow, obvious way)."
    vml = np.prod(spacing) / 1000
    R = cc3d.connected_components(ref, connectivity=connectivity)
    P = cc3d.connected_components(pred, connectivity=connectivity)
    # SUVpeak: mean SUV in the 1 ml sphere around every voxel, by convolution, then max per lesion
    off = sphere_offsets(spacing)
    k = np.zeros(tuple(2 * np.abs(off).max(0) + 1), np.float32); k[tuple((off + np.abs(off).max(0)).T)] = 1
    peak = ndi.convolve(suv, k, mode='constant') / ndi.convolve(np.ones_like(suv), k, mode='constant')
    out = dict(ref=[], pred=[])
    for name, L, other_L, other in (('ref', R, P, pred), ('pred', P, R, ref)):
        for i in range(1, int(L.max()) + 1):
            m = L == i
            v = suv[m]
            matched = np.unique(other_L[m & (other > 0)])
            out[name].append(dict(n=int(m.sum()), suvmax=float(v.max()), suvmean=float(v.mean()),
                                  tl=float(v.sum() * vml), peak=float(peak[m].max()),
                                  centroid=np.argwhere(m).mean(0) * spacing, matched=len(matched),
                                  site=_site(np.bincount(organs[m], minlength=3))))
    def untouched(a, b):               # autoPET val_script.py, verbatim logic
        cc = cc3d.connected_components(a, connectivity=18); n = 0
        for i in range(1, int(cc.max()) + 1):
            comp = np.isin(cc, i)
            if (comp * b).sum() == 0: n += comp.sum()
        return n
    inter = int((ref & pred).sum())
    return dict(lesions=out, dice=2 * inter / (int(ref.sum()) + int(pred.sum())),
                tp=sum(d['matched'] > 0 for d in out['ref']), fn=sum(d['matched'] == 0 for d in out['ref']),
                fp=sum(d['matched'] == 0 for d in out['pred']),
                fpv=untouched(pred, ref) * vml, fnv=untouched(ref, pred) * vml)

def fast(ref, pred, suv, organs):
    return evaluate_arrays(ref, pred, suv, SPACING, 26, 'any', [(organs, {1: 'bone', 2: 'prostate'})])

def main():
    try: os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})   # one core
    except (AttributeError, OSError): pass
    t = time.perf_counter(); ref, pred, suv, organs = make_pair(); t_make = time.perf_counter() - t
    print(f"volume {SHAPE} = {np.prod(SHAPE)/1e6:.1f} M voxels, spacing {SPACING} mm; built in {t_make:.1f} s")
    times = []
    for _ in range(5):
        t = time.perf_counter(); row, les = fast(ref, pred, suv, organs); times.append(time.perf_counter() - t)
    print(f"reference lesions {row['n_lesions_ref']}, predicted components {row['n_lesions_pred']}, "
          f"TP {row['lesion_tp']} FP {row['lesion_fp']} FN {row['lesion_fn']}, DSC {row['dice']:.4f}, "
          f"FPV {row['fp_volume_ml']:.2f} ml, FNV {row['fn_volume_ml']:.2f} ml")
    t = time.perf_counter(); nv = naive(ref, pred, suv, organs); t_naive = time.perf_counter() - t
    # same numbers
    lr = les[les.source == 'ref'].reset_index(drop=True); lp = les[les.source == 'pred'].reset_index(drop=True)
    assert (row['lesion_tp'], row['lesion_fp'], row['lesion_fn']) == (nv['tp'], nv['fp'], nv['fn'])
    assert abs(row['dice'] - nv['dice']) < 1e-12
    assert abs(row['fp_volume_ml'] - nv['fpv']) < 1e-9 and abs(row['fn_volume_ml'] - nv['fnv']) < 1e-9
    for tab, ref_list in ((lr, nv['lesions']['ref']), (lp, nv['lesions']['pred'])):
        # cc3d numbering and ours (raster order of the first voxel) may differ: compare sorted by centroid
        a = tab.sort_values(['centroid_lps_z_mm', 'centroid_lps_y_mm', 'centroid_lps_x_mm'])
        b = sorted(ref_list, key=lambda d: tuple(d['centroid']))
        assert a.n_voxels.tolist() == [d['n'] for d in b]
        for col, key in (('suvmax', 'suvmax'), ('suvmean', 'suvmean'), ('tl_psma', 'tl'), ('suvpeak', 'peak')):
            assert np.allclose(a[col].values, [d[key] for d in b], rtol=1e-5), col
        assert (a.n_matches.values > 0).tolist() == [d['matched'] > 0 for d in b]
        assert a.site.tolist() == [{0: 'unknown', 1: 'bone', 2: 'prostate'}[d['site']] for d in b]
    print("fast and naive results agree (counts, DSC, FPV/FNV, every lesion's voxels, SUVmax/mean/peak, TL-PSMA, match, site)")
    # memory: numpy allocations during one evaluation, inputs already in memory
    tracemalloc.start(); tracemalloc.reset_peak()
    fast(ref, pred, suv, organs)
    peak = tracemalloc.get_traced_memory()[1]; tracemalloc.stop()
    warm = statistics.median(times[1:])
    print(f"evaluate_arrays: first call {times[0]:.3f} s, then median {warm:.3f} s (runs: "
          f"{', '.join(f'{x:.3f}' for x in times)})")
    print(f"naive per-component loop: {t_naive:.1f} s -> ratio {t_naive / warm:.0f}x (warm), {t_naive / times[0]:.0f}x (first call)")
    print(f"peak numpy memory during evaluate_arrays: {peak / 1e6:.0f} MB = {peak / suv.nbytes:.2f} x the SUV volume "
          f"({suv.nbytes / 1e6:.0f} MB)")
    ok = max(times) <= 1.0 and t_naive / max(times) >= 10 and peak <= 4 * suv.nbytes
    print("targets (<= 1 s, >= 10x, <= 4x memory):", "met" if ok else "NOT met")

if __name__ == '__main__':
    main()
