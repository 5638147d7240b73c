"""Cost of the tiny preset's lesion copy-paste augmentation: `LesionPaste` on one 48³ patch against one
training iteration of the tiny network (batch 2, bfloat16 where native, as the trainer runs it), in the
same process.

    .venv/bin/python benchmarks/bench_paste.py

The bank is 80 synthetic lesions (blurred balls of 1–4 voxels radius, the sizes of the default cohort's
lesions). Reported: median seconds over 200 pastes (p=1, so every call pastes 1–2 lesions) and over 5
training iterations, and paste time per batch as a share of an iteration. Goal: ≤ 5 %.
"""
import time
import numpy as np
import torch
from scipy import ndimage as ndi
from psma_nb.train import TINY_PATCH
from psma_nb.nnunet_trainers.psma_presets import LesionPaste, cpu_bf16
from bench_training import tiny_unet, median_time, train_iteration


def synthetic_bank(n=80, seed=0):
    rng = np.random.default_rng(seed); bank = []
    for _ in range(n):
        r = rng.uniform(1, 4); s = int(2 * r + 7)
        z, y, x = np.ogrid[:s, :s, :s]; c = (s - 1) / 2
        m = (z - c) ** 2 + (y - c) ** 2 + (x - c) ** 2 <= r * r
        d = ndi.gaussian_filter(m.astype(np.float32), 1.0) * rng.uniform(0.2, 5)
        bank.append((d, m, float(d[m].max())))
    return bank


if __name__ == '__main__':
    torch.manual_seed(0); np.random.seed(0)
    bf16 = cpu_bf16()
    paste = LesionPaste(synthetic_bank(), p=1.0)
    img, seg = torch.randn(1, *TINY_PATCH), torch.zeros(1, *TINY_PATCH, dtype=torch.int16)
    ts = []
    for _ in range(200):
        t = time.perf_counter(); paste(image=img.clone(), segmentation=seg.clone()); ts.append(time.perf_counter() - t)
    t_paste = float(np.median(ts))
    net = tiny_unet(); opt = torch.optim.SGD(net.parameters(), 1e-2, momentum=0.99, nesterov=True)
    net.train(); t_iter = median_time(train_iteration(net, opt, torch.randn(2, 1, *TINY_PATCH), bf16))
    # a batch is 2 patches; the trainer pastes with p=0.5, here every call pastes (an upper bound)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, bf16 {bf16}")
    print(f"paste {t_paste * 1e3:.2f} ms per patch, training iteration {t_iter * 1e3:.0f} ms, "
          f"2 pastes / iteration = {2 * t_paste / t_iter * 100:.1f} %")
