"""The sliding-window step of the model's checks on its training scans (`CHECK_STEP`, `nbs/50_predict.ipynb`): the
false-positive filter's fit (`_training_components`: N training scans, each as acquired and as three other scanners
show it, predicted and measured, in two forked workers as `psma predict` runs it on a CPU) with the step of a CPU
prediction (0.75) against `CHECK_STEP` (1.0: windows that only just overlap), in turn (0.75, 1.0, 0.75, 1.0) in one
process. The components differ (other windows, other logits where they overlap): their counts are printed, not asserted.

    .venv/bin/python benchmarks/bench_check_step.py MODEL_FOLDER RAW_DATASET [N]

MODEL_FOLDER and RAW_DATASET as for `bench_fp_workers.py`; N training scans (default 4). The first pair includes the
warm-up; read the second.
"""
import sys
from psma_nb.predict import CHECK_STEP, _training_components
from bench_fp_workers import fit_inputs, in_turn

if __name__ == '__main__':
    m, raw, labels = fit_inputs(sys.argv)
    def run(step):
        m.predictor.tile_step_size = step   # the forked workers predict with it
        return _training_components(m, raw, labels, 26, workers=2)
    in_turn({'step 0.75': 0.75, f'step {CHECK_STEP}': CHECK_STEP}, run, same=lambda a, b: None)
