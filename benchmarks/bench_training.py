"""Speed of the tiny preset's network on this CPU: one training iteration (batch 2, the tiny patch) and one
sliding-window forward pass, float32 against bfloat16 autocast, in the same process.

    .venv/bin/python benchmarks/bench_training.py

The tiny trainer uses bfloat16 when `cpu_bf16()` says the CPU has it natively; the ratio printed here is
why. Reported: median seconds of 5 repeats after 2 warm-up runs, and the float32 / bfloat16 ratio.
"""
import time
import numpy as np
import torch
from dynamic_network_architectures.architectures.unet import PlainConvUNet
from psma_nb.train import TINY_FEATURES, TINY_PATCH
from psma_nb.nnunet_trainers.psma_presets import cpu_bf16


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
    net = tiny_unet()
    opt = torch.optim.SGD(net.parameters(), 1e-2, momentum=0.99, nesterov=True)
    x = torch.randn(2, 1, *TINY_PATCH)
    res = {}
    for bf16 in (False, True):
        net.train(); res[('train', bf16)] = median_time(train_iteration(net, opt, x, bf16))
        net.eval(); res[('forward', bf16)] = median_time(forward(net, x[:1], bf16))
    for what in ('train', 'forward'):
        a, b = res[(what, False)], res[(what, True)]
        print(f"{what:8s} patch {TINY_PATCH}: float32 {a:.3f} s, bfloat16 {b:.3f} s, ratio {a / b:.2f}x")
