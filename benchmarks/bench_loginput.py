"""Cost of the tiny preset's log-SUV input: one training iteration and one forward pass of the tiny
network with `log_suv_hook` registered, against the same network without it, in the same process.

    .venv/bin/python benchmarks/bench_loginput.py

Batch of 2 patches of 48³ (the tiny preset's), bfloat16 autocast where native, as the trainer runs it.
Reported: median seconds over 5 repetitions each and the ratio with/without. Goal: ≤ 1.02×.
"""
from types import SimpleNamespace
import numpy as np
import torch
from psma_nb.train import TINY_PATCH
from psma_nb.nnunet_trainers.psma_presets import log_suv_hook, cpu_bf16
from bench_training import tiny_unet, median_time, train_iteration, forward

if __name__ == '__main__':
    torch.manual_seed(0); np.random.seed(0)
    bf16 = cpu_bf16()
    pm = SimpleNamespace(plans={'foreground_intensity_properties_per_channel': {'0': {
        'mean': 10.8, 'std': 9.47, 'percentile_00_5': 1.08, 'percentile_99_5': 48.6}}})
    cm = SimpleNamespace(normalization_schemes=['CTNormalization'])
    x = torch.randn(2, 1, *TINY_PATCH)
    res = {}
    for name in ('plain', 'log'):
        torch.manual_seed(0)
        net = tiny_unet()
        if name == 'log': net.register_forward_pre_hook(log_suv_hook(pm, cm))
        opt = torch.optim.SGD(net.parameters(), 1e-2, momentum=0.99, nesterov=True)
        net.train(); t_it = median_time(train_iteration(net, opt, x, bf16))
        net.eval(); t_fw = median_time(forward(net, x, bf16))
        res[name] = (t_it, t_fw)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, bf16 {bf16}")
    for i, what in enumerate(('training iteration', 'forward pass')):
        a, b = res['plain'][i], res['log'][i]
        print(f"{what}: plain {a * 1e3:.0f} ms, log-SUV input {b * 1e3:.0f} ms, ratio {b / a:.3f}")
