"""Speed of the tiny preset's network on this CPU: one training iteration (batch 2, the tiny patch) and one
sliding-window forward pass (a batch of `WINDOW_BATCH` windows), float32 against bfloat16 autocast and PyTorch's
default layout against `cpu_layout` (channels-last, group norm), in the same process (bfloat16 only on a CPU
that has it natively).

    .venv/bin/python benchmarks/bench_training.py

The tiny trainer uses bfloat16 when `cpu_bf16()` says the CPU has it natively, and `cpu_layout` on a CPU; the
ratios printed here are why. Reported: median seconds of 5 repeats after 2 warm-up runs, and the ratios.
"""
import copy
import time
import numpy as np
import torch
from dynamic_network_architectures.architectures.unet import PlainConvUNet
from psma_nb.train import TINY_FEATURES, TINY_PATCH
from psma_nb.nnunet_trainers.psma_presets import WINDOW_BATCH, cpu_bf16, cpu_layout


def tiny_unet(features=TINY_FEATURES):
    n = len(features)
    return PlainConvUNet(1, n, list(features), torch.nn.Conv3d, 3, [1] + [2] * (n - 1), [2] * n, 2, [2] * (n - 1),
                         True, torch.nn.InstanceNorm3d, {'eps': 1e-5, 'affine': True}, None, None,
                         torch.nn.LeakyReLU, {'inplace': True}, deep_supervision=True)


def median_time(f, reps=5, warm=2):
    for _ in range(warm): f()
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return float(np.median(ts))


def train_iteration(net, opt, x, bf16):
    def f():
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
            out = net(x)
        loss = sum(o.float().mean() for o in out)
        opt.zero_grad(); loss.backward(); opt.step()
    return f


def forward(net, x, bf16):
    def f():
        with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
            net(x)
    return f


if __name__ == '__main__':
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, native bf16: {cpu_bf16()}")
    x = torch.randn(2, 1, *TINY_PATCH)
    nets = dict(default=tiny_unet())
    nets['cpu_layout'] = cpu_layout(copy.deepcopy(nets['default']))
    res, kinds = {}, (False, True) if cpu_bf16() else (False,)   # bfloat16 only where native (emulated it is slow)
    for layout, net in nets.items():
        opt = torch.optim.SGD(net.parameters(), 1e-2, momentum=0.99, nesterov=True)
        for bf16 in kinds:
            net.train(); res[('train', layout, bf16)] = median_time(train_iteration(net, opt, x, bf16))
            net.eval(); res[('forward', layout, bf16)] = median_time(forward(net, x[:WINDOW_BATCH], bf16))
    for what in ('train', 'forward'):
        for layout in nets if len(kinds) > 1 else ():
            a, b = res[(what, layout, False)], res[(what, layout, True)]
            print(f"{what:8s} {layout:10s} patch {TINY_PATCH}: float32 {a:.3f} s, bfloat16 {b:.3f} s, ratio {a / b:.2f}x")
        for bf16 in kinds:
            a, b = res[(what, 'default', bf16)], res[(what, 'cpu_layout', bf16)]
            print(f"{what:8s} {'bfloat16' if bf16 else 'float32':8s} default layout {a:.3f} s, cpu_layout {b:.3f} s, ratio {a / b:.2f}x")
