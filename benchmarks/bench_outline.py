"""Cost of the tiny preset's two additions of this round, each against what already runs beside it, in the
same process:

- `LogSUV` there and back on one 48³ patch (the log-scale augmentation, `nbs/40_presets.ipynb`) against one
  training iteration of the tiny network (batch 2, bfloat16 where native, as the trainer runs it);
- `outline_lesions` (the reader's outline, `nbs/31_outline.ipynb`) on one whole-body scan against
  `drop_components` (the post-processing `psma predict` already ran) on the same mask.

    .venv/bin/python benchmarks/bench_outline.py

The scan is a default-size synthetic case of centre 1 (`simulate_case`, seed 2024, index 5; 6 lesions)
with its lesions drawn too tightly (each reference lesion's voxels above 70 % of its peak: what the tiny
network does). Reported: medians over repetitions, and the ratios. Goals: log scale ≤ 2 % of an iteration
(2 patches per iteration); outline ≤ 5 s per scan (nnU-Net predicts such a scan in 15-30 s with mirroring).
Measured (2 threads, bf16): 0.18 ms per patch against a 180 ms iteration (0.21 %); outline 7 ms against
drop_components 6 ms (1.0x), Dice with the reference 0.55 -> 0.98.

Since 7 December `psma predict` keeps a piece an outline cuts off a component only where it is a hot spot of its own
(`split_h`): also timed, the outline with it, and its worst case on a scan, the one smoothing of the whole scan
(`smooth_suv`) it runs the first time a component falls in pieces, against `drop_components`.
"""
import time
import numpy as np
import torch
import cc3d
from psma_nb.train import TINY_PATCH
from psma_nb.nnunet_trainers.psma_presets import LogSUV, cpu_bf16
from psma_nb.outline import PEAK_SPLIT_H, outline_lesions, smooth_suv
from psma_nb.predict import drop_components
from psma_nb.imaging import simulate_case
from bench_training import tiny_unet, median_time, train_iteration


def timed(f, reps):
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return float(np.median(ts))


if __name__ == '__main__':
    torch.manual_seed(0); np.random.seed(0)
    bf16 = cpu_bf16()
    sc = (10.8, 9.47, 1.08)
    img, seg = torch.randn(1, *TINY_PATCH), torch.zeros(1, *TINY_PATCH, dtype=torch.int16)
    there, back = LogSUV(sc), LogSUV(sc, inverse=True)
    t_log = timed(lambda: back(**there(image=img.clone(), segmentation=seg)), 200)
    net = tiny_unet(); opt = torch.optim.SGD(net.parameters(), 1e-2, momentum=0.99, nesterov=True)
    net.train(); t_iter = median_time(train_iteration(net, opt, torch.randn(2, 1, *TINY_PATCH), bf16))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, bf16 {bf16}")
    print(f"log scale there and back {t_log * 1e3:.2f} ms per patch, training iteration {t_iter * 1e3:.0f} ms, "
          f"2 patches / iteration = {2 * t_log / t_iter * 100:.2f} %")

    arrays, recs, info = simulate_case('centre1', seed=2024, index=5, negative=False)
    suv, ref = arrays['suv'], arrays['seg'] > 0
    lab, n = cc3d.connected_components(ref, connectivity=26, return_N=True)
    peaks = np.zeros(n + 1, np.float32); np.maximum.at(peaks, lab[lab > 0], suv[lab > 0])
    tight = (ref & (suv >= 0.7 * peaks[lab])).astype(np.uint8)
    t_out = timed(lambda: outline_lesions(tight, suv, 0.41), 5)
    t_drop = timed(lambda: drop_components(tight, suv, (4, 4, 4), min_suvmax=2.5), 5)
    out = outline_lesions(tight, suv, 0.41).astype(bool)
    dice = lambda a: 2 * (a & ref).sum() / (a.sum() + ref.sum())
    print(f"scan {suv.shape}, {n} lesions: outline {t_out * 1e3:.0f} ms, drop_components {t_drop * 1e3:.0f} ms, "
          f"ratio {t_out / t_drop:.1f}x; Dice with the reference {dice(tight.astype(bool)):.2f} -> {dice(out):.2f}")
    t_split = timed(lambda: outline_lesions(tight, suv, 0.41, spacing=(4, 4, 4), split_h=PEAK_SPLIT_H), 5)
    t_smooth = timed(lambda: smooth_suv(suv, (4, 4, 4)), 5)
    same = (outline_lesions(tight, suv, 0.41, spacing=(4, 4, 4), split_h=PEAK_SPLIT_H).astype(bool) == out).all()
    print(f"outline keeping only hot spots of their own: {t_split * 1e3:.0f} ms ({t_split / t_drop:.1f}x drop_components; "
          f"the same mask here: {same}); the scan smoothed once (where a component falls in pieces) {t_smooth * 1e3:.0f} ms "
          f"({t_smooth / t_drop:.1f}x drop_components)")
