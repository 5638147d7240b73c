"""Training throughput of the tiny preset's network against what this CPU can do (issue 17, item 2).

    .venv/bin/python benchmarks/bench_gflops.py

In one process: (1) the machine's float32 matrix-product rate (GFLOPS of a 2048² sgemm, and bf16 where native),
(2) the floating-point operations of one training iteration of the tiny network (batch 2, the tiny patch, deep
supervision; counted by `torch.utils.flop_counter`, forward + backward), (3) its median time in float32 and
with bf16 autocast, so the achieved GFLOPS and their share of the matrix-product rate, and (4) where the time of
an iteration goes (torch profiler, grouped: convolutions forward/backward, instance norm, activations, loss,
optimizer step, the rest). The iteration is the network's alone: data loading and augmentation run in other
processes in nnU-Net and are not counted here.
"""
import time
from collections import defaultdict
import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode
from psma_nb.train import TINY_PATCH
from psma_nb.nnunet_trainers.psma_presets import cpu_bf16
from bench_training import tiny_unet, median_time, train_iteration as iteration


def matmul_gflops(n=2048, dtype=torch.float32, reps=5):
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    t = median_time(lambda: a @ b, reps=reps)
    return 2 * n ** 3 / t / 1e9


GROUPS = [('convolution backward', ('convolution_backward',)), ('convolution forward', ('conv3d', 'convolution', 'mkldnn_convolution')),
          ('instance norm', ('instance_norm', 'batch_norm', 'native_batch_norm')), ('activation', ('leaky_relu',)),
          ('optimizer step', ('optimizer', 'adamw', '_foreach', 'addcdiv', 'lerp')), ('loss', ('mean', 'sum'))]


def breakdown(f):
    "Self CPU time of one iteration per group of operators (share of the total)."
    f()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof: f()
    t = defaultdict(float)
    for e in prof.key_averages():
        name = e.key.lower()
        g = next((g for g, keys in GROUPS if any(k in name for k in keys)), 'other')
        t[g] += e.self_cpu_time_total
    tot = sum(t.values())
    return {g: t[g] / tot for g in [g for g, _ in GROUPS] + ['other'] if g in t}


if __name__ == '__main__':
    torch.manual_seed(0)
    bf16 = cpu_bf16()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, native bf16: {bf16}")
    net = tiny_unet(); net.train()
    opt = torch.optim.AdamW(net.parameters(), 1e-3)
    x = torch.randn(2, 1, *TINY_PATCH)
    with FlopCounterMode(display=False) as fc: iteration(net, opt, x, False)()
    flops = fc.get_total_flops()
    peak32 = matmul_gflops()
    print(f"float32 matrix product (2048²): {peak32:.1f} GFLOPS")
    rows = [('float32', False, peak32)]
    if bf16:
        peak16 = matmul_gflops(dtype=torch.bfloat16)
        print(f"bfloat16 matrix product (2048²): {peak16:.1f} GFLOPS")
        rows.append(('bf16 autocast', True, peak16))
    print(f"one training iteration (batch 2, patch {TINY_PATCH}): {flops / 1e9:.1f} GFLOP (forward + backward)")
    for name, use, peak in rows:
        t = median_time(iteration(net, opt, x, use))
        print(f"  {name:14s} {t:.3f} s  -> {flops / t / 1e9:.1f} GFLOPS = {flops / t / 1e9 / peak:.1%} of the "
              f"{'bf16' if use else 'float32'} matrix-product rate")
        share = breakdown(iteration(net, opt, x, use))
        print('    time by operator group: ' + ', '.join(f"{g} {s:.0%}" for g, s in share.items()))
