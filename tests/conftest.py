import os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
PSMA = Path(sys.executable).parent/'psma'


def run_psma(*args, cwd=None, env=None, timeout=1800):
    "Run the installed `psma` console script; returns the CompletedProcess (text output)."
    e = {**os.environ, **(env or {})}
    return subprocess.run([str(PSMA), *map(str, args)], cwd=cwd, env=e, capture_output=True, text=True,
                          timeout=timeout)


def phantom_project(folder:Path, n:str) -> Path:
    "A project folder with the repository's settings.ini (work folder inside) and a phantom cohort of `n` (e.g. 'centre1=6') in work/cohort."
    folder.mkdir(parents=True, exist_ok=True)
    (folder/'settings.ini').write_text((ROOT/'settings.ini').read_text())
    r = run_psma('phantom', '--n', n, '--quiet', cwd=folder)
    assert r.returncode == 0, r.stderr
    return folder


def crop_study(d:Path, n:int=48):
    "Cut every image of the study folder `d` to the `n` axial slices with the most reference lesion, in place (fast cases)."
    import numpy as np, nibabel as nib
    a = np.asarray(nib.load(d/'SEG.nii.gz').dataobj)
    z = int(np.argmax(a.sum((0, 1)))) if a.any() else a.shape[2]//2
    z0 = int(np.clip(z - n//2, 0, a.shape[2] - n))
    for f in d.glob('*.nii.gz'): nib.save(nib.load(f).slicer[:, :, z0:z0 + n], f)


@pytest.fixture
def psma():
    return run_psma


# The longest test files first (measured in CI on a 2-core AVX2 host), so that `pytest -n 2 --dist loadfile
# --no-loadscope-reorder` hands them out first and its two workers end together. Without --no-loadscope-reorder, xdist
# orders the files by their number of tests instead: in a 2156-s CI run test_pipeline.py started last and ran alone for
# minutes while the other worker sat idle.
LONGEST_FIRST = ('test_demo.py', 'test_evaluate.py', 'test_pipeline.py', 'test_autopet.py', 'test_report.py',
                 'test_phantom.py', 'test_bad_input.py', 'test_convert.py', 'test_cli.py')

def pytest_collection_modifyitems(session, config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))   # stable: each file's tests keep their order
