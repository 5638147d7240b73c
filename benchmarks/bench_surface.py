"""Surface Dice and HD95 of one whole-body scan: psma-nb's `surface_metrics` (SciPy erosion + KD-tree, as MONAI computes
them on a CPU) against MONAI's own `compute_surface_dice` and `compute_hausdorff_distance`, and what each costs to import.

- import: a fresh interpreter doing `import monai.metrics` vs one doing what `surface_metrics` imports (scipy.ndimage,
  scipy.spatial), each timed as the median of 3 runs, one after the other in this process;
- the computation: the whole-body pair of `bench_metrics.py` (20 M voxels, 150 reference lesions), both ways, the same
  numbers checked (within 1e-5), median of 3 runs each.

Run: `.venv/bin/python benchmarks/bench_surface.py`. No goal: why `psma evaluate` does not import MONAI.
"""
import os
for _v in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'): os.environ[_v] = '1'
import statistics, subprocess, sys, time, warnings
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).parent))
from bench_metrics import make_pair, SPACING
from psma_nb.metrics import surface_metrics, SURFACE_TOLERANCE_MM, _crop_both


def import_seconds(stmt:str, n:int=3) -> float:
    "Median wall time of a fresh interpreter running `stmt` (the interpreter's own start is in both sides of the ratio)."
    ts = []
    for _ in range(n):
        t = time.perf_counter(); subprocess.run([sys.executable, '-c', stmt], check=True); ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def monai_surface(ref, pred, spacing, tol):
    import torch
    from monai.metrics import compute_surface_dice, compute_hausdorff_distance
    r, p = _crop_both(ref.astype(bool), pred.astype(bool))   # the same crop psma-nb used before it dropped MONAI
    oh = lambda m: torch.from_numpy(np.stack([~m, m]))[None].float()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return dict(surface_dice=compute_surface_dice(oh(p), oh(r), [float(tol)], spacing=list(spacing)).item(),
                    hd95_mm=compute_hausdorff_distance(oh(p), oh(r), percentile=95, spacing=list(spacing)).item())


def timed(f, n=3):
    ts, out = [], None
    for _ in range(n):
        t = time.perf_counter(); out = f(); ts.append(time.perf_counter() - t)
    return statistics.median(ts), out


def main():
    t_monai = import_seconds('import monai.metrics')
    t_scipy = import_seconds('import scipy.ndimage, scipy.spatial, numpy')
    print(f"import: monai.metrics {t_monai:.2f} s, scipy.ndimage + scipy.spatial {t_scipy:.2f} s "
          f"(fresh interpreter each, median of 3): {t_monai / t_scipy:.1f}x")
    ref, pred, _, _ = make_pair()
    t_ours, ours = timed(lambda: surface_metrics(ref, pred, SPACING))
    t_lib, lib = timed(lambda: monai_surface(ref, pred, SPACING, SURFACE_TOLERANCE_MM))
    assert abs(ours['surface_dice'] - lib['surface_dice']) < 1e-5 and abs(ours['hd95_mm'] - lib['hd95_mm']) < 1e-5, (ours, lib)
    print(f"whole-body pair: NSD {ours['surface_dice']:.4f}, HD95 {ours['hd95_mm']:.2f} mm both ways; "
          f"surface_metrics {t_ours:.3f} s, MONAI {t_lib:.3f} s (median of 3, MONAI already imported): {t_lib / t_ours:.2f}x")


if __name__ == '__main__':
    main()
