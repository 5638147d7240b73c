#!/usr/bin/env bash
# The README's notebook runner (tests/notebooks.py: the longest notebooks first, each in a fresh process) against
# nbdev-test (file-name order, worker processes reused), on the notebooks from 40_presets on (most of the suite's
# time), run in turn by farm-bench (A B A B ...; the ratio is taken pair by pair, so a drifting machine speed cancels).
# Each run takes minutes: N pairs (default 1) need a timeout of about N x 15 minutes on a 2-core machine.
#
#   bash benchmarks/bench_notebooks.sh            # from the repository root, with .venv set up
#   N=2 bash benchmarks/bench_notebooks.sh
cd "$(dirname "$0")/.." || exit 1
export PYTHONDONTWRITEBYTECODE= OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=1   # as the README's test command
n=${N:-1}
farm-bench -n "$n" --warmup 0 --timeout $(( n * 1800 < 3600 ? n * 1800 : 3600 )) \
  --vs ".venv/bin/nbdev-test --file-glob [4-9]*.ipynb" -- .venv/bin/python tests/notebooks.py --file-glob '[4-9]*.ipynb'
