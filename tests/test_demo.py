"""End to end: `psma demo --quick` once (the whole study, small), then what hangs off its outputs — the
report's tables, resuming, nnU-Net's own `nnUNetv2_predict` on psma-nb's model folder, DICOM SEG export.
"""
import json, os, re, subprocess, sys, time
from pathlib import Path
import numpy as np
import pytest
import SimpleITK as sitk
from conftest import ROOT, run_psma


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('demo')
    out = tmp/'run'
    t = time.time()
    # the longest test: every core's thread, not the test command's one (OMP_NUM_THREADS=1), so that once the other
    # worker is done it does not run alone on one core of two
    r = run_psma('demo', '--quick', '--no-tta', '-o', out, '--device', 'cpu', cwd=tmp,   # mirroring: 50_predict tests it
                 env={'OMP_NUM_THREADS': str(os.cpu_count() or 1)})
    assert r.returncode == 0, r.stderr[-3000:]
    return dict(out=out, tmp=tmp, stdout=r.stdout, stderr=r.stderr, seconds=time.time() - t)


def test_demo_prints_timings_and_report(demo):
    out = demo['out']
    assert 'total' in demo['stdout'] and 'peak memory' in demo['stdout']
    assert f"report: {out/'report'/'report.html'}" in demo['stdout']
    for stage in ['phantom', 'convert', 'dataset', 'train', 'predict', 'evaluate', 'report']:
        assert re.search(rf'^{stage}\s+\d+\.\d min', demo['stdout'], re.M), stage
    run = json.loads((out/'run.json').read_text())
    assert all(v['status'] == 'done' for v in run['stages'].values()) and len(run['stages']) == 7
    assert run['stages']['convert']['result']['converted'] > 0       # a centre went through DICOM -> psma convert
    assert run['stages']['convert']['result']['max_rel_suv_difference'] < 1e-3
    assert run['config']['tta'] == 'off' and run['command'] == 'psma demo --quick --no-tta'
    assert json.loads((out/'predictions'/'nnunet'/'predict.json').read_text())['tta'] == 'off'


def test_report_tables_hold_numbers(demo):
    from psma_nb.report import check_report
    html = demo['out']/'report'/'report.html'
    assert html.exists() and (demo['out']/'report'/'report.md').exists()
    assert check_report(html) == []
    text = html.read_text()
    for name in ('internal', 'centre 2', 'centre 3', 'threshold', 'nnunet'):
        assert name in text.lower(), name
    assert 'data:image/png;base64,' in text


def test_study_claims_table(demo):
    "The study-level claim's table on the quick run (30 iterations train no lesion finder, so it is read, not asserted: 99_study asserts it on the full study)."
    from psma_nb.demo import study_claims
    c = study_claims(demo['out'])
    assert 'all' in set(c.group) and len(set(c.group)) > 1 and set(c.measure) == {'lesion PPV', 'mean DSC'}
    thr = json.loads((demo['out']/'evaluation'/'threshold'/'summary.json').read_text())
    assert np.isclose(c[(c.group == 'all') & (c.measure == 'lesion PPV')].threshold.item(), thr['all']['lesion']['ppv'])


def test_rerun_resumes(demo):
    t = time.time()
    r = run_psma('demo', '--quick', '--no-tta', '-o', demo['out'], '--device', 'cpu')
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stderr.count('done earlier') == 7
    assert time.time() - t < 60
    r = run_psma('demo', '--quick', '--tta', 'focused', '-o', demo['out'], '--device', 'cpu')   # with mirroring: another run, refused
    assert r.returncode == 2 and 'holds a demo run with other settings (tta off -> focused)' in r.stderr, r.stderr
    r = run_psma('demo', '-o', demo['out'], '--device', 'cpu')          # not --quick: another run, refused
    assert r.returncode == 2 and 'holds a demo run with other settings (mode quick -> default' in r.stderr
    assert r.stderr.count('\n') == 1


def test_nnunet_own_predict_uses_the_model(demo):
    "nnU-Net's own command line predicts with psma-nb's model folder (trainer found through nnUNet_extTrainer)."
    out, tmp = demo['out'], demo['tmp']
    from psma_nb.nnunet_trainers.psma_presets import trainer_dir
    case = sorted(p.name[:-len('.nii.gz')] for p in (out/'predictions'/'nnunet').glob('c1_*.nii.gz'))[0]   # a test case psma predicted
    inp = tmp/'nnunet_in'; inp.mkdir()
    os.symlink(out/'cohort'/case/'SUV.nii.gz', inp/f'{case}_0000.nii.gz')
    env = {**os.environ, 'nnUNet_raw': str(out/'nnUNet_raw'), 'nnUNet_preprocessed': str(out/'nnUNet_preprocessed'),
           'nnUNet_results': str(out/'nnUNet_results'), 'nnUNet_extTrainer': str(trainer_dir())}
    cmd = [str(Path(sys.executable).parent/'nnUNetv2_predict'), '-i', str(inp), '-o', str(tmp/'nnunet_out'),
           '-d', str(json.loads((out/'run.json').read_text())['settings']['dataset_id']), '-c', '3d_tiny', '-tr', 'nnUNetTrainer_psmaTiny', '-f', 'all', '-device', 'cpu',
           '--disable_tta', '-step_size', '0.75', '-npp', '1', '-nps', '1']
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    mine = sitk.GetArrayFromImage(sitk.ReadImage(str(out/'predictions'/'nnunet'/f'{case}.nii.gz')))
    theirs = sitk.GetArrayFromImage(sitk.ReadImage(str(tmp/'nnunet_out'/f'{case}.nii.gz')))
    labels = json.loads((tmp/'nnunet_out'/'dataset.json').read_text())['labels']
    assert labels['lesion'] == 1 and len(labels) > 2          # the organ-aware model: lesion and organ groups
    theirs = (theirs == labels['lesion']).astype(np.uint8)
    assert theirs.shape == mine.shape
    # psma predict also ran its post-processing (SUVmax floor, the organ filter: the study has ORGANS.nii.gz, and the
    # reader's outline): apply the same to nnU-Net's mask
    from psma_nb.predict import postprocess
    from psma_nb.organs import uptake_mask, to_groups
    rec = json.loads((out/'predictions'/'nnunet'/'predict.json').read_text())
    assert rec['organ_filter'] == 'auto' and rec['min_suvmax'] > 0
    img = sitk.ReadImage(str(out/'cohort'/case/'SUV.nii.gz'))
    theirs = postprocess(theirs, sitk.GetArrayFromImage(img), img.GetSpacing()[::-1], rec['min_volume_ml'], rec['min_suvmax'],
                         rec['connectivity'], uptake_mask(to_groups(sitk.GetArrayFromImage(sitk.ReadImage(str(out/'cohort'/case/'ORGANS.nii.gz'))))),
                         rec['outline'])   # and, with a fitted rule, redrew each lesion by it (nbs/31_outline.ipynb)
    # the same model and windows give the same mask: in float32 the same voxels (psma-nb in `cpu_layout`, nnU-Net in
    # PyTorch's layout: measured Dice 1.0); with bf16 on a CPU that has it, up to boundary voxels of this barely trained
    # model (measured Dice 0.94)
    from psma_nb.nnunet_trainers.psma_presets import cpu_bf16
    both = int((theirs.astype(bool) & mine.astype(bool)).sum())
    dice = 2 * both / max(1, int(theirs.sum()) + int(mine.sum()))
    assert mine.sum() > 0 and dice >= (0.85 if cpu_bf16() else 0.99), (int(theirs.sum()), int(mine.sum()), dice)
    if mine.sum() > 50: assert 2 * (theirs & mine).sum() / (theirs.sum() + mine.sum()) > 0.9


def test_organ_filter_study_needs_an_organ_map(demo):
    "`--organ-filter study` refuses inputs without ORGANS.nii.gz (a DICOM PET has none): one line, exit 2."
    out, tmp = demo['out'], demo['tmp']
    src = sorted((out/'dicom').iterdir())[0]/'dicom'
    r = run_psma('predict', src/'PET', '-o', tmp/'on', '--organ-filter', 'study', '--device', 'cpu',
                 '--settings', out/'settings.ini')
    assert r.returncode == 2 and '--organ-filter study needs ORGANS.nii.gz' in r.stderr, r.stderr
    assert r.stderr.count('\n') == 1 and not list((tmp/'on').glob('*.nii.gz'))


def test_predict_dicom_input_with_dicom_seg(demo):
    out, tmp = demo['out'], demo['tmp']
    src = sorted((out/'dicom').iterdir())[0]/'dicom'
    r = run_psma('predict', src/'PET', '-o', tmp/'seg', '--method', 'threshold', '--dicom-seg',
                 '--settings', out/'settings.ini')
    assert r.returncode == 0, r.stderr
    segs = list((tmp/'seg').glob('*_seg.dcm'))
    assert len(segs) == 1 and segs[0].name.startswith('pet_')
    import pydicom
    ds = pydicom.dcmread(segs[0])
    pet_uids = {pydicom.dcmread(f, stop_before_pixels=True).SeriesInstanceUID for f in (src/'PET').iterdir()}
    assert ds.Modality == 'SEG'
    assert ds.ReferencedSeriesSequence[0].SeriesInstanceUID in pet_uids
    r = run_psma('predict', out/'cohort', '-o', tmp/'seg2', '--method', 'threshold', '--dicom-seg',
                 '--settings', out/'settings.ini')
    assert r.returncode == 2 and '--dicom-seg needs DICOM input' in r.stderr
