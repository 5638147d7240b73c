"""Three costs of `psma predict` around the network, each against its reference in the same run.

    .venv/bin/python benchmarks/bench_postprocess.py MODEL_DIR STUDY_DIR [STUDY_DIR ...]

MODEL_DIR is an organ-aware nnU-Net model folder (e.g. the one `psma demo` trains), each STUDY_DIR a study folder.
Per scan, without mirroring:
1. `NnunetModel(img)` with the organ-group map (nnU-Net's export of every organ channel onto the SUV grid) against
   `NnunetModel(img, organs=False)`, which `psma predict` uses when nothing reads the organ map.
2. The peak voxel of every component of the model's raw lesion mask (after the SUVmax floor) as `component_features`
   now finds it (`component_peaks`: an argmax in each component's box) against scipy's `maximum_position` (a sort of the whole scan),
   which it used before; the peaks are checked equal.
3. The export of the network's logits onto the SUV grid (`_maps`: the lesion mask and the organ-group map) with the
   organ channels resampled by nnU-Net's torch resampling (`torch_resampling`, now) against nnU-Net's default
   resampling of them (SciPy, one channel after the other; before 5 December), on the same logits, alternating, best
   of 3; the lesion masks are checked equal and the organ voxels that differ counted.
"""
import argparse, contextlib, io, time
import numpy as np
import SimpleITK as sitk
from scipy import ndimage as ndi
from psma_nb.core import to_canonical
from psma_nb.lesions import label_lesions
from nnunetv2.inference.data_iterators import PreprocessAdapterFromNpy
import psma_nb.predict as P
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
        pr = m.predictor
        with contextlib.redirect_stdout(io.StringIO()):
            dct = next(PreprocessAdapterFromNpy([sitk.GetArrayFromImage(img['suv'])[None].astype(np.float32)], [None],
                                                [{'spacing': list(img['suv'].GetSpacing()[::-1])}], [None], pr.plans_manager,
                                                pr.dataset_json, pr.configuration_manager, num_threads_in_multithreaded=1))
            logits = pr.predict_logits_from_preprocessed_data(dct['data']).float()
        def export(resampling):
            keep, P.torch_resampling = P.torch_resampling, resampling
            try: return P._maps(pr, logits, dct['data_properties'], m.organ_labels)
            finally: P.torch_resampling = keep
        best = {'torch': np.inf, 'scipy': np.inf}; maps = {}
        for _ in range(3):
            for k, f in (('torch', P.torch_resampling), ('scipy', lambda cm: cm)):
                t = time.perf_counter(); maps[k] = export(f); best[k] = min(best[k], time.perf_counter() - t)
        assert (maps['torch'][0] == maps['scipy'][0]).all()
        n_diff = int((maps['torch'][1] != maps['scipy'][1]).sum())
        t_old, t_new = best['scipy'], best['torch']
        suv, sp = sitk.GetArrayFromImage(img['suv']).astype(np.float32), img['suv'].GetSpacing()[::-1]
        raw = drop_components(sitk.GetArrayFromImage(q.lesion), suv, sp, 0., NNUNET_MIN_SUVMAX, 26)
        lab = label_lesions(raw > 0, 26).dense(); n = int(lab.max())
        t_sp, ref = timed(lambda: ndi.maximum_position(suv, lab, np.arange(1, n + 1)), 3)
        t_box, ours = timed(lambda: component_peaks(suv, lab), 3)
        assert [tuple(map(int, r)) for r in ref] == ours
        rows.append((inp.case, suv.size, n, t_org, t_les, t_sp, t_box, t_old, t_new))
        print(f"{inp.case}: {suv.size / 1e6:.1f} M voxels; model with organ map {t_org:.2f} s, without {t_les:.2f} s "
              f"({t_org / t_les:.2f}x); peaks of {n} components: maximum_position {t_sp:.3f} s, box argmax {t_box:.3f} s "
              f"({t_sp / max(t_box, 1e-6):.1f}x); export with the organ channels resampled by SciPy {t_old:.2f} s, "
              f"by torch {t_new:.2f} s ({t_old / t_new:.2f}x, {n_diff} organ voxels differ)", flush=True)
    r = np.array([x[3:] for x in rows])
    print(f"median over {len(rows)} scans: model {np.median(r[:, 0] / r[:, 1]):.2f}x, peaks {np.median(r[:, 2] / np.maximum(r[:, 3], 1e-6)):.1f}x, "
          f"export with SciPy's organ resampling / torch's {np.median(r[:, 4] / r[:, 5]):.2f}x")
