"""End-to-end checks of `psma evaluate` (the real console script) on a tiny hand-made cohort with known answers."""
import json, subprocess, sys
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

PSMA = Path(sys.executable).parent/'psma'
SHAPE, SPACING = (8, 16, 16), (4., 4., 4.)          # array (z, y, x); 4 mm voxels = 0.064 ml
VML = 0.064
REQUIRED = ['case', 'centre', 'dice', 'voxel_ppv', 'iou', 'voxel_sensitivity', 'lesion_tp', 'lesion_fp', 'lesion_fn',
            'fp_volume_ml', 'fn_volume_ml', 'ref_positive', 'pred_positive', 'psma_tv_ref_ml', 'psma_tv_pred_ml',
            'tl_psma_ref', 'tl_psma_pred', 'suvmax_ref', 'suvmax_pred', 'n_lesions_ref', 'n_lesions_pred']


def _img(a, spacing=SPACING):
    i = sitk.GetImageFromArray(a); i.SetSpacing(spacing); i.SetOrigin((-30., -30., -900.))
    return i

def _write(a, path, spacing=SPACING):
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(_img(a, spacing), str(path))

def make_cohort(root: Path):
    """Five hand-made cases in two centres; c2_001 has no prediction.

    c1_000: node 2x2x2 found exactly (SUV 5, one voxel 10), one-voxel border lesion missed, 8-voxel FP cube
            -> TP 1, FP 1, FN 1, DSC 16/25, FPV 8 voxels, FNV 1 voxel; TRUTH.nii.gz says node = pelvic_node.
    c1_001: negative scan, empty prediction (patient TN).
    c2_000: 3x3x3 cube, prediction shifted by one voxel in x -> 18 shared voxels, DSC 2/3, IoU 0.5.
    c2_001: 3x3x3 cube, prediction missing.
    c2_002: negative scan, one predicted voxel (patient FP).
    """
    ref_dir, pred_dir = root/'ref', root/'pred'
    e = np.zeros(SHAPE, np.uint8)
    r0, p0, s0 = e.copy(), e.copy(), np.ones(SHAPE, np.float32)
    r0[2:4, 2:4, 2:4] = 1; p0[2:4, 2:4, 2:4] = 1; s0[2:4, 2:4, 2:4] = 5; s0[3, 3, 3] = 10
    r0[7, 15, 15] = 1; s0[7, 15, 15] = 3
    p0[1:3, 10:12, 2:4] = 1
    cube, shifted, fp1 = e.copy(), e.copy(), e.copy()
    cube[3:6, 5:8, 5:8] = 1; shifted[3:6, 5:8, 6:9] = 1; fp1[4, 4, 4] = 1
    cases = {'c1_000': (r0, p0, s0), 'c1_001': (e, e, np.ones(SHAPE, np.float32)),
             'c2_000': (cube, shifted, 1 + 4 * cube.astype(np.float32)),
             'c2_001': (cube, None, 1 + 4 * cube.astype(np.float32)),
             'c2_002': (e, fp1, np.ones(SHAPE, np.float32))}
    for case, (ref, pred, suv) in cases.items():
        _write(suv, ref_dir/case/'SUV.nii.gz'); _write(ref, ref_dir/case/'SEG.nii.gz')
        if pred is not None: _write(pred, pred_dir/f'{case}.nii.gz')
    truth = np.zeros(SHAPE, np.uint16); truth[2:4, 2:4, 2:4] = 1
    _write(truth, ref_dir/'c1_000'/'TRUTH.nii.gz')
    pd.DataFrame(dict(lesion_id=[1], site=['pelvic_node'])).to_csv(ref_dir/'c1_000'/'lesions.csv', index=False)
    organs = np.zeros(SHAPE, np.uint8); organs[3:6, 5:8, 5:8] = 25
    _write(organs, ref_dir/'c2_000'/'ORGANS.nii.gz')
    pd.DataFrame(dict(case=list(cases), centre=['centre1'] * 2 + ['centre2'] * 3,
                      split=['train', 'test', 'test', 'test', 'test'])).to_csv(ref_dir/'cohort.csv', index=False)
    return ref_dir, pred_dir

def psma(*args):
    return subprocess.run([str(PSMA), *map(str, args)], capture_output=True, text=True, timeout=300)

def psma_quiet(*args):
    "Run with --quiet: no progress bars, so stderr holds only an error."
    return psma(*args, '--quiet')

def assert_one_line_error(r, *words):
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('psma evaluate: error: ') and 'Traceback' not in r.stderr, r.stderr
    for w in words: assert w in lines[0], (w, lines[0])


@pytest.fixture(scope='module')
def cohort(tmp_path_factory):
    return make_cohort(tmp_path_factory.mktemp('cohort'))

@pytest.fixture(scope='module')
def evaluated(cohort, tmp_path_factory):
    ref, pred = cohort
    out = tmp_path_factory.mktemp('eval')/'out'
    r = psma('evaluate', ref, pred, '-o', out, '--bootstrap', 300, '--quiet')
    assert r.returncode == 0, r.stderr
    return out, r


def test_files_and_columns(evaluated):
    out, r = evaluated
    for f in ('cases.csv', 'lesions.csv', 'summary.json', 'agreement.png', 'distributions.png'):
        assert (out/f).is_file() and (out/f).stat().st_size > 0, f
    assert not list(out.glob('.*partial*'))                              # no half-written files left
    cases = pd.read_csv(out/'cases.csv')
    assert set(REQUIRED) <= set(cases.columns)
    assert cases.case.tolist() == ['c1_000', 'c1_001', 'c2_000', 'c2_002']   # c2_001 has no prediction
    les = pd.read_csv(out/'lesions.csv')
    assert len(les) == cases.n_lesions_ref.sum() + cases.n_lesions_pred.sum()
    assert {'case', 'centre', 'source', 'lesion', 'volume_ml', 'suvmax', 'suvmean', 'suvpeak', 'tl_psma', 'site',
            'status', 'matched_ids', 'connectivity', 'match'} <= set(les.columns)


def test_case_values(evaluated):
    out, _ = evaluated
    c = pd.read_csv(out/'cases.csv').set_index('case')
    a = c.loc['c1_000']
    assert (a.lesion_tp, a.lesion_fp, a.lesion_fn, a.n_lesions_ref, a.n_lesions_pred) == (1, 1, 1, 2, 2)
    assert a.dice == pytest.approx(16 / 25) and a.voxel_ppv == pytest.approx(8 / 16)
    assert a.voxel_sensitivity == pytest.approx(8 / 9) and a.iou == pytest.approx(8 / 17)
    assert a.fp_volume_ml == pytest.approx(8 * VML) and a.fn_volume_ml == pytest.approx(VML)
    assert a.psma_tv_ref_ml == pytest.approx(9 * VML) and a.psma_tv_pred_ml == pytest.approx(16 * VML)
    assert a.tl_psma_ref == pytest.approx((7 * 5 + 10 + 3) * VML) and a.tl_psma_pred == pytest.approx((7 * 5 + 10 + 8) * VML)
    assert (a.suvmax_ref, a.suvmax_pred) == (10, 10)
    b = c.loc['c2_000']
    assert b.dice == pytest.approx(2 / 3) and b.iou == pytest.approx(0.5) and b.lesion_tp == 1
    n = c.loc['c1_001']                                                  # empty vs empty: NaN voxel metrics, zeros
    assert np.isnan(n.dice) and np.isnan(n.voxel_ppv) and (n.lesion_tp, n.lesion_fp, n.fp_volume_ml) == (0, 0, 0)
    assert np.isnan(n.suvmax_ref) and n.psma_tv_ref_ml == 0
    f = c.loc['c2_002']                                                  # empty reference, one FP voxel
    assert (f.ref_positive, f.pred_positive, f.lesion_fp) == (False, True, 1) and f.fp_volume_ml == pytest.approx(VML)
    assert f.dice == 0 and np.isnan(f.voxel_sensitivity)


def test_sites(evaluated):
    les = pd.read_csv(evaluated[0]/'lesions.csv')
    ref = les[les.source == 'ref'].set_index(['case', 'lesion'])
    assert ref.loc[('c1_000', 1), 'site'] == 'pelvic_node'             # node: truth lesion with most overlap
    assert ref.loc[('c1_000', 2), 'site'] == 'unknown'                 # border voxel: no truth, no organ map
    assert ref.loc[('c2_000', 1), 'site'] == 'prostate'                # organ map: label 25 is the phantom's prostate


def test_summary(evaluated):
    s = json.loads((evaluated[0]/'summary.json').read_text())
    assert s['groups'] == ['all', 'centre1', 'centre2']
    assert s['missing_predictions'] == ['c2_001'] and s['extra_predictions'] == []
    assert s['settings']['connectivity'] == 26 and s['settings']['match'] == 'any'
    assert s['settings']['autopet_connectivity'] == 18
    a = s['all']
    assert {k: a['patient'][k] for k in ('tp', 'fp', 'fn', 'tn')} == dict(tp=2, fp=1, fn=0, tn=1)
    assert a['patient']['accuracy'] == pytest.approx(0.75) and a['patient']['specificity'] == pytest.approx(0.5)
    lo, hi = a['patient']['accuracy_ci']; assert 0 < lo < 0.75 < hi < 1
    assert {k: a['lesion'][k] for k in ('tp', 'fp', 'fn')} == dict(tp=2, fp=2, fn=1)
    assert a['lesion']['sensitivity'] == pytest.approx(2 / 3) and a['lesion']['f1'] == pytest.approx(4 / 7)
    assert a['voxel']['n'] == 2 and a['voxel']['dice_mean'] == pytest.approx((0.64 + 2 / 3) / 2)
    assert a['volume']['fp_volume_ml_mean_negative'] == pytest.approx(VML / 2)
    assert s['centre1']['lesion']['fn'] == 1 and s['centre2']['n_cases'] == 2
    for bm in ('psma_tv', 'tl_psma', 'suvmax', 'n_lesions'):
        assert {'n', 'pearson_r', 'spearman_rho', 'icc', 'ccc', 'ba_bias', 'ba_loa'} <= set(a['agreement'][bm])
    assert a['agreement']['psma_tv']['n'] == 4 and a['agreement']['suvmax']['n'] == 2
    assert set(a['sites']) >= {'pelvic_node'} and a['sites']['pelvic_node'] == dict(
        n=1, tp=1, sensitivity=1.0, sensitivity_ci=a['sites']['pelvic_node']['sensitivity_ci'])


def test_options_change_results(cohort, tmp_path):
    ref, pred = cohort
    r = psma('evaluate', ref, pred, '-o', tmp_path/'o', '--match', 'iou:0.6', '--connectivity', '6',
             '--bootstrap', 50, '--no-figures', '--quiet', '--workers', 2)
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path/'o'/'summary.json').read_text())
    assert (s['settings']['connectivity'], s['settings']['match']) == (6, 'iou:0.6')
    c = pd.read_csv(tmp_path/'o'/'cases.csv').set_index('case')
    assert (c.loc['c2_000', 'lesion_tp'], c.loc['c2_000', 'lesion_fp'], c.loc['c2_000', 'lesion_fn']) == (0, 1, 1)  # IoU 0.5 < 0.6
    assert not (tmp_path/'o'/'agreement.png').exists()
    # missing prediction scored as empty
    r = psma('evaluate', ref, pred, '-o', tmp_path/'e', '--missing', 'empty', '--bootstrap', 0, '--no-figures', '--quiet')
    assert r.returncode == 0, r.stderr
    c = pd.read_csv(tmp_path/'e'/'cases.csv').set_index('case')
    assert c.loc['c2_001', 'lesion_fn'] == 1 and bool(c.loc['c2_001', 'prediction_missing'])


def test_errors(cohort, tmp_path, evaluated):
    ref, pred = cohort
    assert_one_line_error(psma_quiet('evaluate', ref, pred, '-o', evaluated[0]), 'already holds', '--overwrite')
    assert_one_line_error(psma_quiet('evaluate', ref, pred, '-o', tmp_path/'x', '--missing', 'error'),
                          'have no prediction', 'c2_001')
    assert_one_line_error(psma_quiet('evaluate', ref, pred, '-o', tmp_path/'x', '--match', 'dice:0.5'), "match rule 'dice:0.5'")
    # prediction on another grid, and a multi-label prediction
    bad = tmp_path/'bad'; bad.mkdir()
    for case in ('c1_000', 'c1_001', 'c2_000', 'c2_002'): (bad/f'{case}.nii.gz').write_bytes((pred/f'{case}.nii.gz').read_bytes())
    _write(np.zeros((8, 16, 16), np.uint8), bad/'c2_000.nii.gz', spacing=(2., 2., 2.))
    assert_one_line_error(psma_quiet('evaluate', ref, bad, '-o', tmp_path/'x'), 'case c2_000', 'not on the reference SUV grid',
                          '--resample')
    r = psma('evaluate', ref, bad, '-o', tmp_path/'rs', '--resample', '--bootstrap', 0, '--no-figures', '--quiet')
    assert r.returncode == 0, r.stderr
    lab = np.zeros(SHAPE, np.uint8); lab[3:6, 5:8, 5:8] = 2; lab[0, 0, 0] = 1
    _write(lab, bad/'c2_000.nii.gz')
    assert_one_line_error(psma_quiet('evaluate', ref, bad, '-o', tmp_path/'x'), 'case c2_000', 'not binary', 'labels 0, 1, 2', '--label')
    r = psma('evaluate', ref, bad, '-o', tmp_path/'lab', '--label', '2', '--bootstrap', 0, '--no-figures', '--quiet')
    assert r.returncode == 0, r.stderr
    assert pd.read_csv(tmp_path/'lab'/'cases.csv').set_index('case').loc['c2_000', 'dice'] == 1.0
    # NaN in the SUV
    nan_ref = tmp_path/'nanref'
    import shutil; shutil.copytree(ref, nan_ref)
    s = np.ones(SHAPE, np.float32); s[1, 1, 1] = np.nan
    _write(s, nan_ref/'c1_001'/'SUV.nii.gz')
    assert_one_line_error(psma_quiet('evaluate', nan_ref, pred, '-o', tmp_path/'x'), 'c1_001', 'non-finite')
    assert not (tmp_path/'x').exists() or not any((tmp_path/'x').iterdir())       # nothing half-written
