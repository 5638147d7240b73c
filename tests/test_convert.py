"""End-to-end checks of `psma convert` (the real console script): a DRO folder, refusal to overwrite, one-line
errors, batch mode with pseudonymous ids, and that no patient name or id leaves the DICOM files.

The IBSI DROs are read from ../shared/data/ibsi-suv-dro beside the project (or $PSMA_DRO_DIR); when they are
missing these tests fail, they are never skipped."""
import json, subprocess, sys
from datetime import datetime
from pathlib import Path
import numpy as np
import pandas as pd
import pydicom
import pytest
import SimpleITK as sitk
from psma_nb.suv import dro_dir, DRO_IDS
from psma_nb.dicom import write_pet_series, write_ct_series

PSMA = Path(sys.executable).parent/'psma'
NAME, PID = 'DOE^JANE^Q', 'MRN-8844213'          # synthetic identifiers that must never leave the DICOM files


def psma(*args, cwd=None):
    return subprocess.run([str(PSMA), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300)


def one_line_error(r, *contains):
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('psma convert: error: '), r.stderr
    assert 'Traceback' not in r.stderr
    for c in contains: assert c in lines[0], (c, lines[0])
    return lines[0]


@pytest.fixture(scope='module')
def dro():
    return dro_dir()                                # raises (test fails) when the DROs are missing


def suv_image(shape=(8, 24, 28)):
    a = np.full(shape, 0.8, np.float32)
    a[3:6, 8:14, 9:15] = 12.0                      # a lesion
    img = sitk.GetImageFromArray(a); img.SetSpacing((4., 4., 3.)); img.SetOrigin((-56., -48., -400.))
    return img


def write_patient(folder: Path, seed: int, name=NAME, pid=PID, weight=True, ct=True):
    "A synthetic PET(/CT) patient folder with the given (fake) identifiers."
    suv = suv_image()
    pet = write_pet_series(suv, folder/'PET', weight_kg=77, dose_bq=180e6, injection_time=datetime(2024, 2, 1, 8, 30),
                           series_time=datetime(2024, 2, 1, 9, 31), uid_seed=seed, patient_name=name, patient_id=pid,
                           series_description=f'WB PSMA {name}')
    if ct:
        c = sitk.GetImageFromArray(np.full((8, 48, 56), 30, np.float32)); c.SetSpacing((2., 2., 3.)); c.SetOrigin((-57., -49., -400.))
        write_ct_series(c, folder/'CT', series_time=datetime(2024, 2, 1, 9, 29), uid_seed=seed, patient_name=name, patient_id=pid)
    if not weight:
        for f in pet.glob('*.dcm'):
            ds = pydicom.dcmread(f); del ds.PatientWeight; ds.save_as(f)
    return suv


def no_identifiers(paths, *texts):
    "No output file, file name or text holds the patient's name or id (any part of them)."
    needles = [s.lower() for s in (NAME, PID, 'DOE', 'JANE', '8844213')]
    for t in texts:
        assert not any(n in t.lower() for n in needles), t
    for root in paths:
        for f in Path(root).rglob('*'):
            assert not any(n in f.name.lower() for n in needles), f
            if f.is_file():
                data = f.read_bytes()
                if f.name.endswith('.gz'):
                    import gzip; data = gzip.decompress(data)
                assert not any(n.encode() in data.lower() for n in needles), f


def test_dro_end_to_end(dro, tmp_path):
    out = tmp_path/'DRO_3_2'
    r = psma('convert', dro/'DRO_3_2'/'PT', '-o', out, '--seg', dro/'DRO_3_2'/'mask'/'DRO_mask.nii.gz')
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ['SEG.nii.gz', 'SUV.nii.gz', 'suv.json']
    suv, seg = sitk.ReadImage(str(out/'SUV.nii.gz')), sitk.ReadImage(str(out/'SEG.nii.gz'))
    assert suv.GetPixelID() == sitk.sitkFloat32 and seg.GetPixelID() == sitk.sitkUInt8
    v = sitk.GetArrayFromImage(suv)[sitk.GetArrayFromImage(seg) > 0]
    np.testing.assert_allclose([v.min(), np.median(v), v.max()], [0.2, 1.0, 4.0], rtol=0.005)
    rec = json.loads((out/'suv.json').read_text())
    assert rec['decay_correction'] == 'START' and rec['reference_rule'].startswith('first AcquisitionTime minus')
    assert rec['seg'] == {'source': 'image', 'voxels': 203202, 'resampled': False}
    # the DRO's own patient name and id are not copied
    assert 'PETDRO' not in (out/'suv.json').read_text() and '"DRO"' not in (out/'suv.json').read_text()


@pytest.mark.parametrize('name', ['DRO_2_4', 'DRO_4_2', 'DRO_5_0'])
def test_dro_rtstruct_and_suv_types(dro, tmp_path, name):
    r = psma('convert', dro/name/'PT', '-o', tmp_path/'s', '--seg', dro/name/'RS', '--suv', 'lbm', '--sex', 'M', '--quiet')
    assert r.returncode == 0 and r.stdout == '' and r.stderr == '', r.stderr
    rec = json.loads((tmp_path/'s'/'suv.json').read_text())
    assert rec['suv_type'] == 'lbm' and rec['sex'] == 'M' and rec['seg']['source'] == 'RTSTRUCT'
    v = sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path/'s'/'SUV.nii.gz')))[
        sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path/'s'/'SEG.nii.gz'))) > 0]
    np.testing.assert_allclose(np.median(v), 56.52 / 70, rtol=0.005)        # SUL = SUVbw x LBM / weight


def test_overwrite(dro, tmp_path):
    out = tmp_path/'s'
    assert psma('convert', dro/'DRO_0_0'/'PT', '-o', out, '--seg', dro/'DRO_0_0'/'RS').returncode == 0
    before = (out/'SUV.nii.gz').read_bytes()
    r = psma('convert', dro/'DRO_5_0'/'PT', '-o', out)
    one_line_error(r, 'already holds SUV.nii.gz, SEG.nii.gz, suv.json; pass --overwrite')
    assert (out/'SUV.nii.gz').read_bytes() == before
    r = psma('convert', dro/'DRO_5_0'/'PT', '-o', out, '--overwrite')
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ['SUV.nii.gz', 'suv.json']      # the old SEG is gone
    assert json.loads((out/'suv.json').read_text())['radionuclide'] == 'Ga-68'


def test_bad_inputs_one_line(dro, tmp_path):
    empty = tmp_path/'empty'; empty.mkdir(); (empty/'readme.txt').write_text('no DICOM here')
    one_line_error(psma('convert', empty, '-o', tmp_path/'o1'), 'no DICOM image files found in')
    write_patient(tmp_path/'pat', 1)
    one_line_error(psma('convert', tmp_path/'pat'/'CT', '-o', tmp_path/'o2'), 'no PET series (Modality PT)', "CT series")
    one_line_error(psma('convert', tmp_path/'nowhere', '-o', tmp_path/'o3'), 'is not a folder')
    write_patient(tmp_path/'noweight', 2, weight=False, ct=False)
    one_line_error(psma('convert', tmp_path/'noweight', '-o', tmp_path/'o4'), 'PatientWeight (0010,1030)', '--weight')
    assert psma('convert', tmp_path/'noweight', '-o', tmp_path/'o4', '--weight', '77').returncode == 0
    shifted = tmp_path/'shifted.nii.gz'
    m = sitk.ReadImage(str(dro/'DRO_0_0'/'mask'/'DRO_mask.nii.gz')); m.SetOrigin((0., 0., 2.)); sitk.WriteImage(m, str(shifted))
    one_line_error(psma('convert', dro/'DRO_0_0'/'PT', '-o', tmp_path/'o5', '--seg', shifted),
                   'is not on the PET grid (origin differs by up to 2 mm); pass --resample-mask')
    for o in ('o1', 'o2', 'o3', 'o5'): assert not (tmp_path/o).exists()           # nothing half-written


def test_pet_ct_and_no_identifiers(tmp_path):
    suv = write_patient(tmp_path/'pat', 3)
    out = tmp_path/'study'
    r = psma('convert', tmp_path/'pat', '-o', out, '--ct', tmp_path/'pat')
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ['CTres.nii.gz', 'SUV.nii.gz', 'suv.json']
    got, ct = sitk.ReadImage(str(out/'SUV.nii.gz')), sitk.ReadImage(str(out/'CTres.nii.gz'))
    np.testing.assert_allclose(sitk.GetArrayFromImage(got), sitk.GetArrayFromImage(suv), rtol=1e-3)
    assert ct.GetSize() == got.GetSize() and np.allclose(sitk.GetArrayFromImage(ct), 30)
    no_identifiers([out], r.stdout, r.stderr)


def test_batch(tmp_path):
    src = tmp_path/'export'
    write_patient(src/'DOE_JANE_MRN-8844213', 4)
    write_patient(src/'ZZ_other', 5, name='ROE^RICHARD', pid='X1')
    write_patient(src/'broken_DOE', 6, weight=False)
    cohort, mapping = tmp_path/'cohort', tmp_path/'private'/'mapping.csv'
    # the mapping must be named and must not lie inside the cohort
    one_line_error(psma('convert', src, '-o', cohort, '--batch'), '--batch needs --mapping')
    one_line_error(psma('convert', src, '-o', cohort, '--batch', '--mapping', cohort/'map.csv'), 'must not lie inside the cohort')
    r = psma('convert', src, '-o', cohort, '--batch', '--mapping', mapping, '--id-prefix', 'c1_', '--workers', '2', '--quiet')
    assert r.returncode == 2
    table = pd.read_csv(mapping)
    assert sorted(table.case) == ['c1_000', 'c1_001', 'c1_002']
    by_folder = table.set_index('folder')
    bad = by_folder.loc['broken_DOE', 'case']
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0] == f"psma convert: {bad}: error: PatientWeight (0010,1030) is missing or zero; pass --weight KG", lines
    assert lines[-1] == (f"psma convert: error: 1 of 3 patients could not be converted ({bad}); the others were written "
                         "and the mapping too: fix them and run the same command again to resume")
    assert sorted(p.name for p in cohort.iterdir()) == sorted(set(table.case) - {bad})
    good = cohort/by_folder.loc['DOE_JANE_MRN-8844213', 'case']
    assert sorted(p.name for p in good.iterdir()) == ['CTres.nii.gz', 'SUV.nii.gz', 'suv.json']
    rec = json.loads((good/'suv.json').read_text())
    assert 'series_uid' not in rec and 'injection_time' not in rec and rec['uptake_s'] == 3660.0
    no_identifiers([cohort], r.stdout, r.stderr)
    # the same command with the missing weight resumes: the two converted patients are kept, the third is converted
    before = {p: p.stat().st_mtime_ns for p in cohort.rglob('*') if p.is_file()}
    r = psma('convert', src, '-o', cohort, '--batch', '--mapping', mapping, '--id-prefix', 'c1_', '--weight', '70', '--quiet')
    assert r.returncode == 0, r.stderr
    assert sorted(pd.read_csv(mapping).status) == ['converted', 'existing', 'existing']
    assert all(p.stat().st_mtime_ns == t for p, t in before.items())
    # a mapping that links other ids (another prefix) is refused, not overwritten
    one_line_error(psma('convert', src, '-o', tmp_path/'c2', '--batch', '--mapping', mapping), 'maps other ids or folders; pass --overwrite')


@pytest.fixture(scope='module')
def dro_cohort(dro, tmp_path_factory):
    "All 17 DRO folders converted by one `psma convert --batch` (each folder's RTSTRUCT becomes SEG.nii.gz)."
    tmp = tmp_path_factory.mktemp('dro_batch')
    r = psma('convert', dro, '-o', tmp/'cohort', '--batch', '--mapping', tmp/'mapping.csv', '--workers', '2', '--quiet')
    assert r.returncode == 0 and r.stderr == '', r.stderr
    return tmp/'cohort', pd.read_csv(tmp/'mapping.csv').set_index('folder')


@pytest.mark.parametrize('name', DRO_IDS)
def test_every_dro_converts(dro_cohort, name):
    "Each DRO through the console script: SUV within 0.5% of 0.2/1/4 in its RTSTRUCT (DRO_2_3: within its storage step)."
    cohort, mapping = dro_cohort
    assert mapping.loc[name, 'status'] == 'converted'
    out = cohort/mapping.loc[name, 'case']
    v = sitk.GetArrayFromImage(sitk.ReadImage(str(out/'SUV.nii.gz')))[sitk.GetArrayFromImage(sitk.ReadImage(str(out/'SEG.nii.gz'))) > 0]
    assert v.size == 174691                                         # the RTSTRUCT's voxels (see 12_masks)
    got, want = np.array([v.min(), np.median(v), v.max()]), np.array([0.2, 1.0, 4.0])
    if name != 'DRO_2_3':
        np.testing.assert_allclose(got, want, rtol=0.005)
    else:   # SUVbsa stored with RescaleSlope 0.01, truncated: low by less than one storage step (0.01 x factor)
        f = json.loads((out/'suv.json').read_text())['suv_factor']
        assert np.all((got <= want * 1.005) & (got > want - 0.01 * f)), got
        np.testing.assert_array_equal(np.round(got / f / 0.01), np.floor(want / f / 0.01))
