"The `psma` console script's conventions, run as a user runs it."
import re
from conftest import ROOT, run_psma
from psma_nb import __version__
from psma_nb.cli import VERBS, verb_functions


def test_help_lists_every_verb():
    r = run_psma('--help')
    assert r.returncode == 0
    for verb in ['convert', 'phantom', 'dataset', 'train', 'predict', 'evaluate', 'report', 'demo']:
        assert f'    {verb}' in r.stdout, verb


def test_version():
    r = run_psma('--version')
    assert (r.returncode, r.stdout.strip()) == (0, f'psma-nb {__version__}')


def test_every_verb_has_help():
    for verb in VERBS:
        r = run_psma(verb, '--help')
        assert r.returncode == 0 and r.stdout.startswith(f'usage: psma {verb}'), (verb, r.stderr)


def test_every_verb_is_built():
    "Every verb `psma --help` lists has its stage's `<verb>_args` and `<verb>_main` (98_cli tests the message of one that has not)."
    assert [v for v in VERBS if verb_functions(v) is None] == []


def test_settings_error_is_one_line_exit_2(tmp_path):
    bad = tmp_path/'settings.ini'
    bad.write_text((ROOT/'settings.ini').read_text().replace('seed = 2024', 'seed = many'))
    r = run_psma('demo', '--settings', bad, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.count('\n') == 1 and 'Traceback' not in r.stderr, r.stderr
    assert "seed = 'many' is not a whole number" in r.stderr and '[study]' in r.stderr
    r = run_psma('demo', '--settings', bad, '--debug', cwd=tmp_path)
    assert r.returncode == 2 and 'Traceback' in r.stderr


def test_settings_found_from_a_subfolder_and_env_overrides(tmp_path):
    (tmp_path/'settings.ini').write_text((ROOT/'settings.ini').read_text().replace('seed = 2024', 'seed = x'))
    (tmp_path/'sub').mkdir()
    r = run_psma('demo', cwd=tmp_path/'sub')
    assert r.returncode == 2 and str(tmp_path/'settings.ini') in r.stderr
    r = run_psma('demo', cwd=tmp_path/'sub', env={'PSMA_SETTINGS': str(tmp_path/'none.ini')})
    assert r.returncode == 2 and 'none.ini (from PSMA_SETTINGS) does not exist' in r.stderr


def test_every_module_is_listed():
    "The package docstring (and nbs/llms.txt, from the same source) names every module with its 'Start with' functions."
    import psma_nb
    mods = [p.stem for p in (ROOT/'psma_nb').glob('*.py') if not p.name.startswith('_')]
    assert len(mods) >= 20
    missing = [m for m in mods if f'`psma_nb.{m}`' not in psma_nb.__doc__]
    assert not missing, missing
    llms = (ROOT/'nbs'/'llms.txt').read_text()
    assert all(f'psma_nb.{m}' in llms for m in mods)
    for m in mods:   # each module's docstring ends in the functions to start with, and they exist
        mod = __import__(f'psma_nb.{m}', fromlist=['x'])
        names = re.findall(r'`([A-Za-z_][A-Za-z0-9_]*)`', mod.__doc__.split('Start with:')[-1]) if 'Start with:' in mod.__doc__ else []
        assert names, m
        assert all(hasattr(mod, n) for n in names), (m, [n for n in names if not hasattr(mod, n)])
