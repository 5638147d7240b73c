"""Speed of reading a PET DICOM series into SUV (psma_nb.dicom.read_pet) against SimpleITK's plain reader.

A 300-slice 200 x 200 PET series (int16, per-slice RescaleSlope, BQML, realistic PET header) is written with
psma-nb's own writer (`write_pet_series`) into a temporary folder. Timed in one process, best of several
runs, on the same files:

- psma-nb: `read_pet(folder)` — walk the folder, read every header once, group by series, order slices by
  position, check the stack, compute the SUV factors (QIBA/IBSI rules) and read the pixels with per-slice
  rescale and SUV factor into a float32 SimpleITK image;
- reference: `sitk.ImageSeriesReader` given the (already known, sorted) file names, reading raw values
  only (no series discovery, no SUV).

The two are run alternately (so both see the same load on a shared machine) and the best time of each is kept.

Both must give the same voxel values up to the SUV factor (checked). Run:
`.venv/bin/python benchmarks/bench_convert.py`. Goal (issue #3): ratio <= 1.5.
"""
import os
for _v in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'): os.environ[_v] = '1'
import tempfile, time
from datetime import datetime
from pathlib import Path
import numpy as np
import SimpleITK as sitk
from psma_nb.dicom import read_pet, write_pet_series

N_SLICES, SIZE, RUNS = 300, 200, 7

def make_series(folder: Path) -> Path:
    "Write a 300 x 200 x 200 synthetic SUV volume as a PET series."
    rng = np.random.default_rng(0)
    suv = rng.gamma(2.0, 0.5, (N_SLICES, SIZE, SIZE)).astype(np.float32)
    suv[100:120, 80:100, 90:110] = 30.0
    img = sitk.GetImageFromArray(suv); img.SetSpacing((4.0, 4.0, 3.0))
    return write_pet_series(img, folder / 'PT', weight_kg=80, dose_bq=150e6, injection_time=datetime(2024, 1, 1, 9),
                            series_time=datetime(2024, 1, 1, 10), uid_seed=1)

def timed(fn):
    t = time.perf_counter(); out = fn()
    return time.perf_counter() - t, out

def best_interleaved(a, b, runs=RUNS):
    "Best times of `a` and `b`, run alternately so that both see the same machine load."
    ta, tb = [], []
    for _ in range(runs):
        t, out_a = timed(a); ta.append(t)
        t, out_b = timed(b); tb.append(t)
    return min(ta), out_a, min(tb), out_b

def main():
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_series(Path(tmp))
        files = [str(p) for p in sorted(folder.glob('*.dcm'))]
        def reference():
            r = sitk.ImageSeriesReader(); r.SetFileNames(files); return r.Execute()
        # warm up both (imports, file cache)
        reference(); read_pet(folder)
        t_ref, ref, t_ours, (suv, info) = best_interleaved(reference, lambda: read_pet(folder))
        # same voxels: our SUV / SUV factor = the rescaled stored values SimpleITK returns
        a_ref = sitk.GetArrayFromImage(ref).astype(np.float64)
        a_ours = sitk.GetArrayFromImage(suv).astype(np.float64) / info.suv_factor
        assert ref.GetSize() == suv.GetSize(), (ref.GetSize(), suv.GetSize())
        assert np.allclose(a_ours, a_ref, rtol=1e-5, atol=1e-3 * a_ref.max()), np.abs(a_ours - a_ref).max()
        ratio = t_ours / t_ref
        print(f"PET series {N_SLICES} slices of {SIZE}x{SIZE}, best of {RUNS} runs")
        print(f"  sitk.ImageSeriesReader (raw values, known file list): {t_ref*1000:8.1f} ms")
        print(f"  psma_nb.dicom.read_pet (discover + sort + SUV):       {t_ours*1000:8.1f} ms")
        print(f"  ratio: {ratio:.2f}x (goal <= 1.5x) -> {'OK' if ratio <= 1.5 else 'TOO SLOW'}")
        return ratio

if __name__ == '__main__':
    main()
