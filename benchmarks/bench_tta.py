"""Cost of test-time mirroring (`psma predict`'s default): one study predicted by a trained model with
mirroring (8 passes per window) against the same model without it, in the same process.

    .venv/bin/python benchmarks/bench_tta.py MODEL_DIR STUDY_DIR [--step 0.75]

MODEL_DIR is an nnU-Net model folder (e.g. the one `psma demo` trains), STUDY_DIR a study folder.
Reported: median seconds over 3 repetitions each (nnU-Net's prediction of the array, without reading or
writing files), after one warm-up run, and the ratio. Expected: up to 8× (nnU-Net's mirroring runs the network once per mirror
image); what it buys is measured in `50_predict`.
"""
import argparse
import torch
from psma_nb.predict import NnunetModel, find_inputs, load_input
from bench_training import median_time

if __name__ == '__main__':
    p = argparse.ArgumentParser(); p.add_argument('model'); p.add_argument('study'); p.add_argument('--step', type=float, default=0.75)
    a = p.parse_args()
    img = load_input(find_inputs(a.study)[0])
    res = {}
    for tta in (False, True):
        m = NnunetModel(a.model, device='cpu', tta=tta, step=a.step)
        res[tta] = median_time(lambda: m(img), reps=3, warm=1)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, step {a.step}, SUV {img['suv'].GetSize()}")
    print(f"no mirroring {res[False]:.1f} s, mirroring {res[True]:.1f} s, ratio {res[True] / res[False]:.2f}")
