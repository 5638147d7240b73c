"""Two costs of `psma predict` around the network, each against its reference in the same run.

    .venv/bin/python benchmarks/bench_postprocess.py MODEL_DIR STUDY_DIR [STUDY_DIR ...]

MODEL_DIR is an organ-aware nnU-Net model folder (e.g. the one `psma demo` trains), each STUDY_DIR a study folder.
Per scan, without mirroring:
1. `NnunetModel(img)` with the organ-group map (nnU-Net's export of every organ channel onto the SUV grid) against
   `NnunetModel(img, organs=False)`, which `psma predict` uses when nothing reads the organ map.
2. The peak voxel of every component of the model's raw lesion mask (after the SUVmax floor) as `component_features`
   now finds it (`component_peaks`: an argmax in each component's box) against scipy's `maximum_position` (a sort of the whole scan),
   which it used before; the peaks are checked equal.
"""
import argparse, time
import numpy as np
import SimpleITK as sitk
from scipy import ndimage as ndi
from psma_nb.core import to_canonical
from psma_nb.lesions import label_lesions
from psma_nb.predict import NnunetModel, find_inputs, load_input, drop_components, component_peaks, NNUNET_MIN_SUVMAX


def timed(f, n=2):
    "Best of n runs: (seconds, result)."
    best, out = np.inf, None
    for _ in range(n):
        t = time.perf_counter(); out = f(); best = min(best, time.perf_counter() - t)
    return best, out


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('model'); ap.add_argument('studies', nargs='+')
    a = ap.parse_args()
    m = NnunetModel(a.model, device='cpu', mirroring='off')
    assert m.organ_labels, 'the model has no organ classes'
    rows = []
    for st in a.studies:
        inp = find_inputs(st)[0]
        img = {k: v if v is None else to_canonical(v) for k, v in load_input(inp, organs=False).items()}
        m(img, organs=False)                      # warm-up
        t_org, p = timed(lambda: m(img))
        t_les, q = timed(lambda: m(img, organs=False))
        assert (sitk.GetArrayFromImage(p.lesion) == sitk.GetArrayFromImage(q.lesion)).all()
        suv, sp = sitk.GetArrayFromImage(img['suv']).astype(np.float32), img['suv'].GetSpacing()[::-1]
        raw = drop_components(sitk.GetArrayFromImage(q.lesion), suv, sp, 0., NNUNET_MIN_SUVMAX, 26)
        lab = label_lesions(raw > 0, 26).dense(); n = int(lab.max())
        t_sp, ref = timed(lambda: ndi.maximum_position(suv, lab, np.arange(1, n + 1)), 3)
        t_box, ours = timed(lambda: component_peaks(suv, lab), 3)
        assert [tuple(map(int, r)) for r in ref] == ours
        rows.append((inp.case, suv.size, n, t_org, t_les, t_sp, t_box))
        print(f"{inp.case}: {suv.size / 1e6:.1f} M voxels; model with organ map {t_org:.2f} s, without {t_les:.2f} s "
              f"({t_org / t_les:.2f}x); peaks of {n} components: maximum_position {t_sp:.3f} s, box argmax {t_box:.3f} s "
              f"({t_sp / max(t_box, 1e-6):.1f}x)", flush=True)
    r = np.array([x[3:] for x in rows])
    print(f"median over {len(rows)} scans: model {np.median(r[:, 0] / r[:, 1]):.2f}x, peaks {np.median(r[:, 2] / np.maximum(r[:, 3], 1e-6)):.1f}x")
