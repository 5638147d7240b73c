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


@pytest.fixture
def psma():
    return run_psma
