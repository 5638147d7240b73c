"End-to-end checks of `psma phantom` through the real console script (notebooks 20_anatomy, 21_imaging and 22_phantom test the pieces)."
import hashlib, subprocess, sys
from pathlib import Path
import numpy as np
import pandas as pd
import SimpleITK as sitk
import pytest

PSMA = Path(sys.executable).parent/'psma'
SITES = {'prostate', 'pelvic_node', 'retroperitoneal_node', 'supradiaphragmatic_node', 'bone', 'visceral'}
FILES = ['CTres.nii.gz', 'ORGANS.nii.gz', 'SEG.nii.gz', 'SUV.nii.gz', 'TRUTH.nii.gz', 'lesions.csv', 'phantom.json']


def psma(*args, cwd):
    return subprocess.run([str(PSMA), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300)


def digest(folder: Path) -> dict:
    "sha256 of every file under `folder` (relative path -> hash)."
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob('*')) if p.is_file()}


@pytest.fixture(scope='module')
def quick(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('quick')
    r = psma('phantom', '-o', tmp/'cohort', '--size', 'quick', '--seed', 11, '--workers', 2, cwd=tmp)
    assert r.returncode == 0, r.stderr
    return tmp/'cohort', r


def test_quick_cohort_files_and_tables(quick):
    out, r = quick
    assert '12 cases in' in r.stdout
    cohort = pd.read_csv(out/'cohort.csv')
    for col in ('case', 'centre', 'split', 'n_lesions', 'sites', 'psma_tv_truth_ml', 'psma_tv_ref_ml', 'tl_psma_truth', 'tl_psma_ref'):
        assert col in cohort.columns, col
    assert cohort.groupby(['centre', 'split']).size().to_dict() == {('centre1', 'test'): 2, ('centre1', 'train'): 6,
                                                                    ('centre2', 'test'): 2, ('centre3', 'test'): 2}
    assert cohort.case.tolist() == sorted(cohort.case) and cohort.case.str.fullmatch(r'c[123]_\d{3}').all()
    assert (pd.read_csv(out/'centres.csv').centre.tolist()) == ['centre1', 'centre2', 'centre3']
    assert (cohort.n_lesions == 0).any() and (cohort.n_lesions > 0).any()   # negative and positive scans
    for row in cohort.itertuples():
        case = out/row.case
        assert sorted(p.name for p in case.iterdir()) == FILES
        les = pd.read_csv(case/'lesions.csv')
        for col in ('lesion_id', 'site', 'organ', 'centre', 'centroid_lps_x_mm', 'centroid_lps_y_mm', 'centroid_lps_z_mm', 'diameter_mm',
                    'volume_ml', 'suvmax_truth', 'suvmax_observed', 'in_reference'):
            assert col in les.columns, col
        assert set(les.site) <= SITES and (les.centre == row.centre).all() and len(les) == row.n_lesions
        assert les.lesion_id.tolist() == list(range(1, len(les) + 1))
        imgs = {n: sitk.ReadImage(str(case/f'{n}.nii.gz')) for n in ('SUV', 'CTres', 'SEG', 'ORGANS', 'TRUTH')}
        types = {n: i.GetPixelIDTypeAsString() for n, i in imgs.items()}
        assert types == {'SUV': '32-bit float', 'CTres': '16-bit signed integer', 'SEG': '8-bit unsigned integer',
                         'ORGANS': '8-bit unsigned integer', 'TRUTH': '16-bit unsigned integer'}
        for i in imgs.values():
            assert i.GetSize() == imgs['SUV'].GetSize() and np.allclose(i.GetSpacing(), imgs['SUV'].GetSpacing())
            assert np.allclose(i.GetOrigin(), imgs['SUV'].GetOrigin())
        assert np.allclose(imgs['SUV'].GetSpacing(), (row.spacing_x_mm, row.spacing_y_mm, row.spacing_z_mm))
        seg, truth = sitk.GetArrayFromImage(imgs['SEG']), sitk.GetArrayFromImage(imgs['TRUTH'])
        assert set(np.unique(seg)) <= {0, 1}
        assert sorted(set(np.unique(truth)) - {0}) == les.lesion_id.tolist()      # TRUTH label i <-> lesion_id i
        # reference PSMA-TV is the SEG volume; a scan with no reference lesion has an empty SEG
        vv = np.prod(imgs['SUV'].GetSpacing())/1000
        assert row.psma_tv_ref_ml == pytest.approx(seg.sum()*vv, rel=1e-6)
        assert (seg.sum() == 0) == (les.in_reference.sum() == 0)
        assert row.psma_tv_truth_ml == pytest.approx(les.volume_ml.sum(), rel=1e-6)


def test_same_seed_same_files_whatever_the_workers(tmp_path):
    runs = {}
    for w in (1, 2):
        r = psma('phantom', '-o', tmp_path/f'w{w}', '--n', 'centre1=2,centre3=1', '--seed', 5, '--workers', w, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        runs[w] = digest(tmp_path/f'w{w}')
    assert len(runs[1]) == 2 + 3*len(FILES)
    assert runs[1] == runs[2]
    r = psma('phantom', '-o', tmp_path/'other', '--n', 'centre3=1', '--seed', 6, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert digest(tmp_path/'other')['c3_000/SUV.nii.gz'] != runs[1]['c3_000/SUV.nii.gz']   # another seed, another patient


def test_refuses_to_overwrite(quick, tmp_path):
    out, _ = quick
    before = digest(out)
    r = psma('phantom', '-o', out, '--size', 'quick', cwd=tmp_path)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and 'pass --overwrite' in r.stderr and 'Traceback' not in r.stderr
    assert digest(out) == before
    # a folder of someone else's files is never cleared, even with --overwrite
    (tmp_path/'mine').mkdir(); (tmp_path/'mine'/'notes.txt').write_text('keep me')
    r = psma('phantom', '-o', tmp_path/'mine', '--n', 1, '--overwrite', cwd=tmp_path)
    assert r.returncode == 2 and 'not a psma phantom cohort' in r.stderr
    assert (tmp_path/'mine'/'notes.txt').read_text() == 'keep me'


def test_overwrite_replaces_cohort(tmp_path):
    out = tmp_path/'c'
    assert psma('phantom', '-o', out, '--n', 'centre1=2', '--seed', 3, cwd=tmp_path).returncode == 0
    r = psma('phantom', '-o', out, '--n', 'centre2=1', '--seed', 3, '--overwrite', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ['c2_000', 'centres.csv', 'cohort.csv']


def test_bad_options_are_one_line_errors(tmp_path):
    for args, msg in ((['--n', 'lots'], 'give a number of cases'), (['--centres', 'centre9'], "unknown centre 'centre9'")):
        r = psma('phantom', '-o', tmp_path/'x', *args, cwd=tmp_path)
        assert r.returncode == 2 and msg in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_dicom_round_trip_through_psma_convert(tmp_path):
    out = tmp_path/'cohort'
    r = psma('phantom', '-o', out, '--n', 'centre3=1', '--seed', 4, '--dicom', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    d = out/'c3_000'/'dicom'
    assert sorted(p.name for p in d.iterdir()) == ['CT', 'PET', 'SEG.dcm']
    r = psma('convert', d/'PET', '-o', tmp_path/'conv', '--ct', d/'CT', '--seg', d/'SEG.dcm', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    arr = lambda p: sitk.GetArrayFromImage(sitk.ReadImage(str(p)))
    suv0, suv1 = arr(out/'c3_000'/'SUV.nii.gz'), arr(tmp_path/'conv'/'SUV.nii.gz')
    assert suv0.shape == suv1.shape
    assert np.abs(suv1 - suv0).max() <= 1e-3*suv0.max()                       # within 0.1 % (int16 DICOM pixels)
    hot = suv0 >= 1
    assert (np.abs(suv1[hot] - suv0[hot])/suv0[hot]).max() <= 1e-3
    assert (arr(tmp_path/'conv'/'SEG.nii.gz') == arr(out/'c3_000'/'SEG.nii.gz')).all()
    assert np.abs(arr(tmp_path/'conv'/'CTres.nii.gz').astype(float) - arr(out/'c3_000'/'CTres.nii.gz')).max() <= 1


def test_interrupted_dicom_run_resumes(tmp_path):
    "Stopped while writing (SIGTERM after its first case), the same command resumes and the cohort is byte-identical to one run."
    import signal, time
    args = ['phantom', '--n', 'centre2=2', '--seed', 5, '--dicom', '--workers', 1]   # two cases: stopped after the first
    out = tmp_path/'cut'
    p = subprocess.Popen([str(PSMA), *map(str, args), '-o', str(out)], cwd=tmp_path,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    t = time.time()
    while not (out/'c2_000').is_dir() and p.poll() is None and time.time() - t < 240: time.sleep(0.05)
    p.send_signal(signal.SIGTERM); p.wait(60)
    assert p.returncode != 0 and not (out/'cohort.csv').exists()                 # it was stopped mid-way
    r = psma(*args, '-o', out, cwd=tmp_path)
    assert r.returncode == 0 and 'resuming an interrupted run' in r.stderr, r.stderr
    assert not list(out.glob('.*'))                                             # no half case, no run record left
    assert psma(*args, '-o', tmp_path/'whole', cwd=tmp_path).returncode == 0
    assert digest(out) == digest(tmp_path/'whole')
    r = psma('phantom', '--n', 'centre2=2', '--seed', 6, '-o', out, cwd=tmp_path)  # a finished cohort: refused as before
    assert r.returncode == 2 and 'pass --overwrite' in r.stderr


def test_interrupted_run_with_other_settings_is_refused(tmp_path):
    out = tmp_path/'c'
    assert psma('phantom', '--n', 'centre1=1', '--seed', 3, '-o', out, cwd=tmp_path).returncode == 0
    (out/'cohort.csv').unlink()                                                 # as if stopped before the end ...
    (out/'.psma-phantom-run.json').write_text('{"seed": 3, "cases": ["c1_000"]}')  # ... of another run
    before = digest(out)
    r = psma('phantom', '--n', 'centre1=1', '--seed', 3, '-o', out, cwd=tmp_path)
    assert r.returncode == 2 and 'interrupted psma phantom run with other settings' in r.stderr, r.stderr
    assert digest(out) == before
