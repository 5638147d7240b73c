"""The autoPET PSMA release as it is, through the command-line verbs: a nested PATIENT/STUDY tree whose study folders
are named by date and description (the same names under several patients) runs through dataset -> train (tiny) ->
predict as a two-job array (--part 1/2, 2/2) -> evaluate, with folds grouped by patient and no date, description or
patient folder name in any case id, file name, CSV or JSON that the pipeline writes."""
import csv, json, re, shutil
from pathlib import Path
import numpy as np
import SimpleITK as sitk
import pytest
from conftest import run_psma, phantom_project
from psma_nb.study import study_table

# (patient folder, study folder): 4 patients, 6 studies; the first study name recurs under three patients,
# the second under two, as in the release (a date, 'NA', the description, a series number)
FIRST, SECOND = '05-01-2014-NA-PET-CT Ganzkoerper  primaer mit KM-10445', '11-20-2014-NA-PET-CT Ganzkoerper  primaer mit KM-77812'
TREE = [('PSMA_0a1b2c3d4e', FIRST), ('PSMA_0a1b2c3d4e', SECOND), ('PSMA_5f6a7b8c9d', FIRST),
        ('PSMA_5f6a7b8c9d', SECOND), ('PSMA_e0f1a2b3c4', FIRST), ('PSMA_d5e6f7a8b9', '03-14-2015-NA-PET-CT-61203')]
TEST_PATIENT = 'PSMA_5f6a7b8c9d'            # both of its studies are the test split: no patient on both sides
LEAKS = re.compile(r'\d\d-\d\d-20\d\d|Ganzkoerper|PET-CT|PSMA_[0-9a-f]{10}')
SLAB, SIDE = 48, 84                         # the test's scans: a 48-slice slab of the phantom's body, 84 x 84 in plane (4 windows)


def small_study(src:Path, dest:Path):
    "The study `src` as the release ships it (SUV, CTres, SEG; ORGANS as psma convert --organs adds it; y axis to the front), cut to a slab."
    seg = sitk.GetArrayFromImage(sitk.ReadImage(str(src/'SEG.nii.gz')))
    per_slice = np.convolve(seg.reshape(len(seg), -1).sum(1), np.ones(SLAB), 'valid')   # lesion voxels per slab
    z0 = int(per_slice.argmax()) if per_slice.any() else (len(seg) - SLAB) // 2
    y0, x0 = (max(0, (n - SIDE) // 2) for n in seg.shape[1:])
    dest.mkdir(parents=True)
    for f in ('SUV', 'CTres', 'SEG', 'ORGANS'):
        im = sitk.ReadImage(str(src/f'{f}.nii.gz'))
        cut = im[x0:x0 + SIDE, y0:y0 + SIDE, z0:z0 + SLAB]   # origin moves with it
        sitk.WriteImage(sitk.DICOMOrient(cut, 'LAS'), str(dest/f'{f}.nii.gz'))   # the release's y axis runs to the front


def leaks(folder:Path) -> list[str]:
    "File names under `folder`, and lines of its CSV/JSON/Markdown/HTML files, that carry a date, description or patient folder."
    out = [str(p) for p in folder.rglob('*') if LEAKS.search(p.name)]
    for p in folder.rglob('*'):
        if p.suffix in ('.csv', '.json', '.md', '.html'):
            out += [f"{p.name}: {l.strip()}" for l in p.read_text().splitlines() if LEAKS.search(l)]
    return out


@pytest.fixture(scope='module')
def tree(tmp_path_factory):
    "A project folder (own settings.ini) with the autoPET-style tree `autopet/` made from a 6-case phantom cohort."
    proj = phantom_project(tmp_path_factory.mktemp('autopet'), 'centre1=6')
    src = sorted(p.parent for p in (proj/'work'/'cohort').glob('*/SUV.nii.gz'))
    assert len(src) == len(TREE)
    root = proj/'autopet'
    for s, (pat, study) in zip(src, TREE):
        small_study(s, root/pat/study)
    shutil.rmtree(proj/'work'/'cohort')
    # cohort.csv the way a user writes it: case ids from study_table, the test split by patient folder
    t = study_table(root)
    folder_patient = {Path(p): Path(p).parent.name for p in t.path}
    with open(root/'cohort.csv', 'w', newline='') as f:
        w = csv.writer(f); w.writerow(['case', 'centre', 'split'])
        for r in t.itertuples():
            w.writerow([r.case, 'centre1', 'test' if folder_patient[Path(r.path)] == TEST_PATIENT else 'train'])
    return proj, root, t


def test_study_ids(tree):
    proj, root, t = tree
    assert len(t) == 6 and t.case.is_unique and t.patient.nunique() == 4
    assert all(re.fullmatch(r'p[0-9a-f]{8,}_[12]', c) for c in t.case), list(t.case)
    for pat in {p for p, _ in TREE}:    # one patient id per patient folder; studies numbered in time
        rows = t[[Path(p).parent.name == pat for p in t.path]]
        assert rows.patient.nunique() == 1
        assert [Path(p).name for p in rows.sort_values('order').path] == [s for q, s in TREE if q == pat]


def test_dataset_train_predict_evaluate(tree):
    proj, root, t = tree
    patient = dict(zip(t.case, t.patient))
    test = sorted(t.case[[Path(p).parent.name == TEST_PATIENT for p in t.path]])
    assert len(test) == 2

    r = run_psma('dataset', root, '--quiet', cwd=proj)
    assert r.returncode == 0, r.stderr[-2000:]
    ds = Path(r.stdout.strip())
    split = json.loads((ds/'psma_split.json').read_text())
    assert sorted(split['train']) == sorted(set(t.case) - set(test)) and split['test_sets'] == {'internal': test}
    folds = json.loads((proj/'work'/'nnUNet_preprocessed'/ds.name/'splits_final.json').read_text())
    assert len(folds) == 3                      # 3 training patients: one fold each, never split across folds
    for f in (ds/'imagesTr').glob('*.nii.gz'):   # the network learns one orientation: the phantom's (identity direction)
        assert sitk.ReadImage(str(f)).GetDirection() == (1., 0., 0., 0., 1., 0., 0., 0., 1.), f.name
    for f in folds:
        assert not {patient[c] for c in f['train']} & {patient[c] for c in f['val']}
    assert sorted(c for f in folds for c in f['val']) == sorted(split['train'])

    r = run_psma('train', '--iterations', '4', '--device', 'cpu', '--quiet', cwd=proj)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (Path(r.stdout.strip())/'checkpoint_final.pth').exists()

    pred = proj/'pred'
    args = ('predict', root, '-o', pred, '--split', 'test', '--device', 'cpu', '--no-tta')
    for k in (1, 2):                            # a two-job array, as on a cluster
        r = run_psma(*args, '--part', f'{k}/2', '--mapping', proj/f'mapping-{k}.csv', cwd=proj)
        assert r.returncode == 0 and '1 case(s) predicted, 0 already there' in r.stderr, r.stderr[-2000:]
        assert 'Warning' not in r.stderr, r.stderr[-2000:]   # nnU-Net's trainer lookup imports timm: its deprecation is not the user's
    assert sorted(p.name for p in pred.glob('*.nii.gz')) == [f'{c}.nii.gz' for c in test]
    for c in test:                              # each mask on its study's own grid (y axis to the front)
        suv = sitk.ReadImage(str(Path(t.path[t.case == c].iloc[0])/'SUV.nii.gz'))
        m = sitk.ReadImage(str(pred/f'{c}.nii.gz'))
        assert m.GetDirection() == suv.GetDirection() and m.GetDirection()[4] == -1. and m.GetSize() == suv.GetSize()
        assert np.allclose(m.GetOrigin(), suv.GetOrigin())
    assert {p.name for p in pred.glob('predict.part-*.json')} == {'predict.part-1-of-2.json', 'predict.part-2-of-2.json'}
    maps = [row for k in (1, 2) for row in csv.DictReader(open(proj/f'mapping-{k}.csv'))]   # the key, kept apart
    assert sorted(m['case'] for m in maps) == test
    assert all(Path(m['folder']).parent.name == TEST_PATIENT for m in maps)

    r = run_psma('evaluate', root, pred, '-o', proj/'eval', '--split', 'test', '--bootstrap', '20', '--no-figures',
                 '--quiet', cwd=proj)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = list(csv.DictReader(open(proj/'eval'/'cases.csv')))
    assert sorted(r['case'] for r in rows) == test
    s = json.loads((proj/'eval'/'summary.json').read_text())
    assert s['all']['n_cases'] == 2 and not s['missing_predictions'] and not s['extra_predictions']

    r = run_psma('report', proj/'eval', '-o', proj/'report', '--quiet', cwd=proj)   # its gallery finds the nested studies
    assert r.returncode == 0, r.stderr[-2000:]
    html = (proj/'report'/'report.html').read_text()
    assert 'no gallery' not in html and 'data:image/png;base64,' in html

    for folder in (ds, proj/'work'/'nnUNet_preprocessed', pred, proj/'eval', proj/'report'):   # the mapping files are the key
        assert not leaks(folder), leaks(folder)


def test_cohort_verb(tree):
    "`psma cohort` on the tree: links under the same ids, a patient-grouped split, no date anywhere, and a dataset made from it."
    proj, root, t = tree
    out = proj/'linked'
    r = run_psma('cohort', root, '-o', out, '--test-fraction', '0.25', '--quiet', cwd=proj)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = list(csv.DictReader(open(out/'cohort.csv')))
    assert sorted(r['case'] for r in rows) == sorted(t.case)
    by_patient = {}
    for row in rows: by_patient.setdefault(row['patient'], set()).add(row['split'])
    assert all(len(s) == 1 for s in by_patient.values()) and {'train', 'test'} <= set.union(*by_patient.values())
    assert not leaks(out) and not any(LEAKS.search(p.name) for p in out.rglob('*'))
    r = run_psma('dataset', out, '--id', '702', '--name', 'Linked', '--quiet', cwd=proj)
    assert r.returncode == 0, r.stderr[-2000:]
    split = json.loads((Path(r.stdout.strip())/'psma_split.json').read_text())
    assert sorted(split['train']) == sorted(r['case'] for r in rows if r['split'] == 'train')
