"""Speed of `psma phantom`: one whole-body case at 4 mm (centre 1) on one core, as a ratio against a reference
operation measured in the same process — one scipy `gaussian_filter` pass (the scanner blur) over a float32 volume
of the same size — plus absolute seconds. Target: <= 2 s per case.

Run: .venv/bin/python benchmarks/bench_phantom.py [--cases 5]
"""
import os
os.environ.setdefault('OMP_NUM_THREADS', '1')
import argparse, statistics, tempfile, time
from pathlib import Path
import numpy as np
import SimpleITK as sitk
from scipy import ndimage as ndi
sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)
from psma_nb.imaging import make_case, CENTRES, _sigma_vox
from psma_nb.phantom import write_case


def timed(fn, repeat):
    out = []
    for _ in range(repeat):
        t = time.perf_counter(); fn(); out.append(time.perf_counter() - t)
    return statistics.median(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--cases', type=int, default=5)
    a = ap.parse_args()
    make_case('centre1', 0, 1)                                  # warm-up (imports, caches)
    secs, shapes, write = [], [], []
    for i in range(a.cases):
        t = time.perf_counter(); pc = make_case('centre1', i, 2024, negative=False); secs.append(time.perf_counter() - t)
        shapes.append(pc.suv.GetSize()[::-1])
        with tempfile.TemporaryDirectory() as d:
            t = time.perf_counter(); write_case(pc, Path(d)/pc.case); write.append(time.perf_counter() - t)
    shape = tuple(int(np.median([s[k] for s in shapes])) for k in range(3))
    vol = np.random.default_rng(0).random(shape, dtype=np.float32)
    sig = _sigma_vox(CENTRES['centre1']['fwhm_mm'], CENTRES['centre1']['spacing'][::-1])
    ref = timed(lambda: ndi.gaussian_filter(vol, sig), 7)
    case = statistics.median(secs)
    print(f"phantom case, centre1 (4 mm), median volume {shape[0]}x{shape[1]}x{shape[2]} = {np.prod(shape)/1e6:.2f} Mvoxels, "
          f"{a.cases} positive cases, one thread")
    print(f"  make_case (in memory):     {case:.3f} s  (min {min(secs):.3f}, max {max(secs):.3f})  target <= 2 s: "
          f"{'OK' if case <= 2 else 'TOO SLOW'}")
    print(f"  reference gaussian_filter: {ref:.4f} s  (sigma {tuple(round(s, 2) for s in sig)} voxels)")
    print(f"  ratio case / reference:    {case/ref:.1f}")
    print(f"  writing the study folder (5 NIfTI.gz + tables): {statistics.median(write):.3f} s")


if __name__ == '__main__':
    main()
