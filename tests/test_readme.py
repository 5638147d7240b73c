"""README.md is kept in step with nbs/index.ipynb (Quarto, which nbdev-readme needs, is not available).

Run `python tests/test_readme.py` to rewrite README.md from the notebook.
"""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def render_readme(nb_path=ROOT/'nbs'/'index.ipynb') -> str:
    "README text from the index notebook: markdown cells as they are, code cells as python blocks."
    nb = json.loads(Path(nb_path).read_text())
    parts = []
    for cell in nb['cells']:
        src = ''.join(cell['source']).strip()
        if not src or src.startswith('#| hide'): continue
        parts.append(src if cell['cell_type'] == 'markdown' else f"```python\n{src}\n```")
    return '\n\n'.join(parts) + '\n'


def test_readme_matches_index_notebook():
    assert (ROOT/'README.md').read_text() == render_readme(), \
        "README.md differs from nbs/index.ipynb: run `python tests/test_readme.py` to rewrite it"


def test_quick_start_has_exactly_two_commands():
    cmds = re.findall(r'^python3 -m venv \.venv .*$', (ROOT/'README.md').read_text(), re.M)
    assert len(cmds) == 2, cmds
    assert cmds[0].endswith('psma demo') and 'tests/notebooks.py' in cmds[1] and 'pytest' in cmds[1]


if __name__ == '__main__':
    (ROOT/'README.md').write_text(render_readme())
    print('README.md rewritten from nbs/index.ipynb', file=sys.stderr)
