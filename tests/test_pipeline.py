"""The nnU-Net pipeline through its command-line verbs, small: phantom -> dataset -> train -> predict -> evaluate."""
import json
from pathlib import Path
import SimpleITK as sitk
import pytest
from conftest import run_psma, phantom_project, crop_study


@pytest.fixture(scope='module')
def project(tmp_path_factory):
    "A project folder with its own settings.ini (work folder inside) and a 6-case cohort, each study cut to 48 slices (fast)."
    proj = phantom_project(tmp_path_factory.mktemp('pipeline'), 'centre1=5,centre2=1')
    for d in (proj/'work'/'cohort').iterdir():
        if d.is_dir(): crop_study(d)
    return proj


def test_dataset_train_predict_evaluate(project):
    cohort = project/'work'/'cohort'
    r = run_psma('dataset', '--quiet', cwd=project)              # COHORT_DIR defaults to settings data_dir
    assert r.returncode == 0, r.stderr
    ds = Path(r.stdout.strip())
    assert ds == project/'work'/'nnUNet_raw'/'Dataset701_PSMA'
    split = json.loads((ds/'psma_split.json').read_text())
    assert len(split['train']) == 4 and set(split['test_sets']) == {'internal', 'centre2'}
    assert not set(split['train']) & {c for v in split['test_sets'].values() for c in v}

    r = run_psma('train', '--iterations', '6', '--device', 'cpu', '--quiet', cwd=project)
    assert r.returncode == 0, r.stderr[-2000:]
    fold = Path(r.stdout.strip())
    assert (fold/'checkpoint_final.pth').exists() and fold.name == 'fold_all'
    assert json.loads((fold/'psma_train.json').read_text())['iterations'] == 6

    pred = ('predict', cohort, '-o', project/'pred', '--split', 'test', '--device', 'cpu', '--no-tta')   # mirroring: 50_predict
    r = run_psma(*pred, '--part', '1/2', cwd=project)                # one job of a two-job array
    assert r.returncode == 0 and '1 case(s) predicted, 0 already there' in r.stderr, r.stderr[-2000:]
    r = run_psma(*pred, cwd=project)                                 # the rest, and the folder's predict.json
    assert r.returncode == 0 and '1 case(s) predicted, 1 already there' in r.stderr, r.stderr[-2000:]
    assert (project/'pred'/'predict.part-1-of-2.json').exists() and (project/'pred'/'predict.json').exists()
    tests = sorted(c for v in split['test_sets'].values() for c in v)
    assert sorted(p.name for p in (project/'pred').glob('*.nii.gz')) == [f'{c}.nii.gz' for c in tests]
    for c in tests:   # exactly the SUV grid
        a, b = sitk.ReadImage(str(cohort/c/'SUV.nii.gz')), sitk.ReadImage(str(project/'pred'/f'{c}.nii.gz'))
        assert (a.GetSize(), a.GetSpacing(), a.GetOrigin()) == (b.GetSize(), b.GetSpacing(), b.GetOrigin())

    r = run_psma(*pred, cwd=project)
    assert r.returncode == 0 and f'0 case(s) predicted, {len(tests)} already there' in r.stderr   # resumable
    r = run_psma(*pred[:-1], '--tta', 'all', cwd=project)
    assert r.returncode == 2 and 'other settings (tta)' in r.stderr, r.stderr   # never mixed into the folder

    r = run_psma('evaluate', cohort, project/'pred', '-o', project/'eval', '--split', 'test', '--bootstrap', '50',
                 '--quiet', cwd=project)
    assert r.returncode == 0, r.stderr[-2000:]
    s = json.loads((project/'eval'/'summary.json').read_text())
    assert s['settings']['method'] == 'nnunet' and s['settings']['split'] == 'test'
    assert set(s['groups']) == {'all', 'centre1', 'centre2'}


def test_cli_errors_are_one_line(project):
    for args, msg in [(('train', '--fold', '7'), 'is not one of all, 0, 1, 2, 3, 4'),
                      (('train', '--device', 'cuda'), 'no CUDA device'),
                      (('predict', project/'nothing', '-o', project/'x'), 'does not exist'),
                      (('dataset', project/'nothing'), 'does not exist')]:
        r = run_psma(*args, cwd=project)
        if 'cuda' in args:
            import torch
            if torch.cuda.is_available(): continue
        assert r.returncode == 2, (args, r.stderr)
        assert msg in r.stderr and r.stderr.count('\n') == 1 and 'Traceback' not in r.stderr, r.stderr
