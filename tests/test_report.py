"""End-to-end checks of `psma report` (the real console scripts): a quick synthetic cohort, the SUV-threshold
baseline with two rules on the test split, `psma evaluate --split test` for each, then the report."""
import json, math, re, shutil, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import pytest
from psma_nb.report import check_report

PSMA = Path(sys.executable).parent/'psma'
TEST_SETS = {'internal (centre 1)': 'centre1', 'external (centre 2)': 'centre2', 'external (centre 3)': 'centre3',
             'all test sets (pooled)': 'all'}
PUBLISHED_TEXT = ['83%', '92%', '77%', '91%', '87–94%', '88–95%', '98–100%', '93–97%', '65–70%', '72–79%', '53–58%',
                  '62–73%']


def psma(*args, cwd=None):
    return subprocess.run([str(PSMA), *map(str, args)], capture_output=True, text=True, timeout=600, cwd=cwd)


def _ok(p):
    assert p.returncode == 0, p.stderr
    return p


@pytest.fixture(scope='module')
def study(tmp_path_factory):
    "base/cohort, base/pred_{fixed,liver}, base/evals/{fixed,liver} and base/run.json (found by psma report)."
    base = tmp_path_factory.mktemp('report')
    _ok(psma('phantom', '-o', base/'cohort', '--size', 'quick', '--seed', 3, '--workers', 2, '--quiet', cwd=base))

    def chain(rule):
        _ok(psma('predict', base/'cohort', '-o', base/f'pred_{rule}', '--method', 'threshold', '--threshold-rule', rule,
                 '--split', 'test', '--workers', 1, '--quiet', cwd=base))
        _ok(psma('evaluate', base/'cohort', base/f'pred_{rule}', '-o', base/'evals'/rule, '--split', 'test',
                 '--bootstrap', 200, '--workers', 1, '--quiet', cwd=base))
    with ThreadPoolExecutor(2) as ex: list(ex.map(chain, ['fixed', 'liver']))
    # the shape psma demo writes: stages as {name: record}, the report's own stage still running
    run = dict(config=dict(mode='quick'), command='psma demo -o DIR', seed=3, device='cpu', preset='tiny',
               total_seconds=61.5, created='2026-01-01T00:00:00+00:00', settings=dict(seed=3, preset='tiny'),
               versions={'psma-nb': '0.1.0', 'pydicom': None},
               stages={'phantom-stage-x': dict(status='done', seconds=20.5, result=dict(cases=12)),
                       'evaluate-stage-y': dict(status='done', seconds=41.0), 'report': dict(status='running')})
    (base/'run.json').write_text(json.dumps(run))
    return base


@pytest.fixture(scope='module')
def report(study):
    out = study/'R'
    p = _ok(psma('report', study/'evals'/'fixed', f"liver={study/'evals'/'liver'}", '-o', out, cwd=study))
    assert 'report.html' in p.stdout
    return out


def md_section_table(md, title):
    "Rows (dicts) of the first table under '## title' in report.md, with blanked repeated labels filled in."
    sec = md.split(f'## {title}\n', 1)[1].split('\n## ', 1)[0]
    lines = [l for l in sec.splitlines() if l.startswith('|')]
    head = [c.strip() for c in lines[0].strip('|').split('|')]
    rows, prev = [], {}
    for l in lines[2:]:
        cells = [c.strip() for c in l.strip('|').split('|')]
        row = {h: (c if c or h not in prev else prev[h]) for h, c in zip(head, cells)}
        rows.append(row); prev = row
    return rows


def pct(v):
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.1f}%"


def test_report_complete_and_self_contained(study, report):
    assert check_report(report) == []
    html, md = (report/'report.html').read_text(), (report/'report.md').read_text()
    for s in [*TEST_SETS, *PUBLISHED_TEXT, 'Kendrick 2022', 'autoPET III winner', 'doi:10.1007/s00259-023-06555-z']:
        assert s in html and s in md, s
    # self-contained: every image is an embedded PNG, nothing loaded from files or the network
    srcs = re.findall(r'src="([^"]*)"', html)
    assert len(srcs) >= 5 and all(s.startswith('data:image/png;base64,') for s in srcs)
    assert '<link' not in html and '<script' not in html
    # every value cell is a number or an explained dash; no NaN/None/placeholders anywhere in the tables
    cells = re.findall(r'<td class="num">(.*?)</td>', html)
    assert len(cells) > 200
    for c in cells:
        assert re.match(r'^(-?\d|–[⁰¹²³⁴⁵⁶⁷⁸⁹]*)', c), c
        assert not re.search(r'\b(nan|NaN|None|null|inf)\b|[{}$]', c), c
    for c in re.findall(r'<td[^>]*>(.*?)</td>', html):
        assert not re.search(r'\b(nan|NaN|None|null)\b|\{|\}', c), c
    # the same tables in report.md, its figures next to it
    assert md.count('\n| ') > 0 and html.count('<table') == len(re.findall(r'\n\n\|', md))
    for img in re.findall(r'!\[[^\]]*\]\(([^)]+)\)', md):
        assert (report/img).is_file() and (report/img).read_bytes()[:4] == b'\x89PNG'


def test_report_numbers_are_the_evaluations(study, report):
    "The patient, lesion and voxel cells show exactly what psma evaluate wrote in summary.json."
    md = (report/'report.md').read_text()
    sums = {m: json.loads((study/'evals'/d/'summary.json').read_text()) for m, d in (('threshold', 'fixed'), ('liver', 'liver'))}
    pat = md_section_table(md, 'Patient level')
    les = md_section_table(md, 'Lesion level')
    vox = md_section_table(md, 'Voxel level')
    names = dict(accuracy='accuracy', sensitivity='sensitivity', specificity='specificity', PPV='ppv', NPV='npv', F1='f1')
    n_checked = 0
    for rows, level in ((pat, 'patient'), (les, 'lesion')):
        for r in rows:
            g = TEST_SETS[r['test set']]
            for m, s in sums.items():
                v = s[g][level][names[r['metric']]]
                want = pct(v)
                if want is None: assert r[m].startswith('–'), (r, m)
                else:
                    lo, hi = s[g][level][names[r['metric']] + '_ci']
                    ci = f"({100 * lo:.1f}–{100 * hi:.1f})" if lo is not None else '(–'
                    assert r[m].startswith(f"{want} {ci}"), (r, m, v)
                n_checked += 1
    for r in vox:
        if r['metric'] != 'DSC': continue
        for m, s in sums.items():
            v = s[TEST_SETS[r['test set']]]['voxel']['dice_mean']
            assert r[m].startswith(f"{100 * v:.1f} ± ") if v is not None else r[m].startswith('–'), (r, m)
            n_checked += 1
    assert n_checked == len(TEST_SETS) * 2 * (5 + 4 + 1)
    # published numbers only beside the internal test set at patient level
    acc = {r['test set']: r['Jafari 2024'] for r in pat if r['metric'] == 'accuracy'}
    assert acc['internal (centre 1)'] == '83%' and acc['external (centre 2)'].startswith('–')


def test_report_files_and_run_info(study, report):
    tables = report/'tables'
    for m, d in (('threshold', 'fixed'), ('liver', 'liver')):
        for f in ('cases.csv', 'lesions.csv', 'summary.json'):
            assert (tables/f'{m}_{f}').read_bytes() == (study/'evals'/d/f).read_bytes()
    for t in ('patient', 'lesion', 'voxel', 'volume', 'sites', 'agreement', 'test_sets'):
        assert (tables/f'{t}.csv').stat().st_size > 100, t
    assert not [p for p in study.iterdir() if p.name.startswith('.')]     # no temporary folder left behind
    # run.json above the evaluation folders was found and shown (stages, command); versions of this process too
    html = (report/'report.html').read_text()
    for s in ('phantom-stage-x', 'evaluate-stage-y', 'psma demo -o DIR', 'still running when this report was written',
              'config.mode', 'nnunetv2', 'torch', str(study/'run.json')):
        assert s in html, s


def test_report_refuses_overwrite_then_overwrites(study, report, tmp_path):
    report = shutil.copytree(report, tmp_path/'R')
    before = (report/'report.html').read_text()
    p = psma('report', study/'evals'/'fixed', '-o', report, cwd=study)
    assert p.returncode == 2 and p.stderr.count('\n') == 1 and 'already holds a report' in p.stderr, p.stderr
    assert (report/'report.html').read_text() == before
    other = study/'other_run.json'
    other.write_text(json.dumps(dict(command='psma demo --other', stages=[])))
    _ok(psma('report', study/'evals'/'fixed', '-o', report, '--overwrite', '--no-gallery', '--run-info', other, cwd=study))
    html = (report/'report.html').read_text()
    assert check_report(report) == [] and 'psma demo --other' in html and 'gallery not drawn' in html
    assert not (report/'tables'/'liver_cases.csv').exists()       # the old report's files were replaced, not mixed


def test_report_bad_inputs(study, tmp_path):
    cases = (([study/'pred_fixed'], 'holds no summary.json'),
             ([study/'evals'/'fixed', '--run-info', tmp_path/'nope.json'], 'does not exist'),
             ([f"bad name={study/'evals'/'fixed'}"], 'may only hold'))
    with ThreadPoolExecutor(3) as ex:
        res = list(ex.map(lambda c: psma('report', *c[0], '-o', tmp_path/'R', cwd=tmp_path), cases))
    for p, (_, msg) in zip(res, cases):
        assert p.returncode == 2 and p.stderr.count('\n') == 1 and msg in p.stderr, p.stderr
    assert not (tmp_path/'R').exists()


def test_check_report_finds_problems(report, tmp_path):
    bad = tmp_path/'bad'; shutil.copytree(report, bad)
    html = (bad/'report.html').read_text()
    html = re.sub(r'<td class="num">[^<]*</td>', '<td class="num">nan</td>', html, count=1)
    html = html.replace('src="data:image/png;base64,', 'src="figures/per_scan.png" data-x="', 1)
    html = html.replace('id="gallery"', '')
    (bad/'report.html').write_text(html)
    shutil.rmtree(bad/'figures')
    probs = check_report(bad)
    for want in ('NaN/None/placeholder', 'not an embedded PNG', "section 'gallery' missing", 'does not exist'):
        assert any(want in p for p in probs), (want, probs)
