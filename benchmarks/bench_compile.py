"""`torch.compile` on the CPU (issue 17 names it as a lever to measure): the tiny preset's network as psma-nb runs
it on a CPU (`cpu_layout`: channels-last, group norm), eager against compiled by TorchInductor, in the same process:
a sliding-window forward pass (a batch of `WINDOW_BATCH` windows, what `psma predict` runs), with Inductor's
defaults and with `freezing` (weights folded and pre-packed for oneDNN, Inductor's recipe for CPU inference), and
one training iteration (batch 2, deep supervision, SGD) with the defaults. The outputs are checked to agree.

    .venv/bin/python benchmarks/bench_compile.py             # float32 (what a CPU without native bf16 runs)
    BENCH_SIMD512=1 .venv/bin/python benchmarks/bench_compile.py   # Inductor's own vector width on an AVX-512 CPU

Inductor's code is generated for 256-bit vectors (`cpp.simdlen = 256`, AVX2) unless BENCH_SIMD512=1: on the 2-core
Intel Xeon with avx512f and avx512_bf16 of 5 December, its AVX-512 code aborted the process at the first compiled call
(`double free or corruption`, three runs out of three; torch 2.14.1), its AVX2 code did not.

Reported: the one-time compile, then eager and compiled timed in turn (5 rounds of 3 repeats each, after warm-up, so that
a machine's drift hits both alike) with the medians and eager / compiled (> 1: compiling pays). Needs a C++ compiler
(Inductor writes C++ for the CPU).
"""
import copy
import time
import numpy as np
import torch
from bench_training import median_time, tiny_unet, train_iteration
from psma_nb.train import TINY_PATCH
from psma_nb.nnunet_trainers.psma_presets import WINDOW_BATCH, cpu_layout


def in_turn(a, b, rounds=5, reps=3):
    "Median seconds of `a` and of `b`, timed in turn (`rounds` x `reps` each, after a warm-up of each)."
    ta, tb = [], []
    for _ in range(rounds):
        ta.append(median_time(a, reps=reps, warm=1)); tb.append(median_time(b, reps=reps, warm=1))
    return float(np.median(ta)), float(np.median(tb))


def compiled(net, x, **inductor):
    "`net` compiled (with these Inductor options), the seconds of its first call (the compile), its output then."
    import torch._inductor.config as ic
    old = {k: getattr(ic, k) for k in inductor}
    for k, v in inductor.items(): setattr(ic, k, v)
    try:
        torch._dynamo.reset()
        c = torch.compile(net)
        t = time.perf_counter()
        with torch.inference_mode(): out = c(x)
        return c, time.perf_counter() - t, out
    finally:
        for k, v in old.items(): setattr(ic, k, v)


if __name__ == '__main__':
    import os
    import torch._inductor.config as ic
    if os.environ.get('BENCH_SIMD512') != '1': ic.cpp.simdlen = 256
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, float32, patch {TINY_PATCH}, "
          f"Inductor vector width {ic.cpp.simdlen or 'its own'}")
    net = cpu_layout(tiny_unet()).eval()
    x = torch.randn(WINDOW_BATCH, 1, *TINY_PATCH).contiguous(memory_format=torch.channels_last_3d)

    def fwd(n):
        def f():
            with torch.inference_mode(): return n(x)
        return f
    with torch.inference_mode(): ref = net(x)[0]
    for name, opts in (('defaults', {}), ('freezing', dict(freezing=True))):
        c, tc, out = compiled(net, x, **opts)
        diff = float((out[0] - ref).abs().max())
        assert diff < 1e-2, f"compiled ({name}) output differs from eager by {diff}"
        eager, t = in_turn(fwd(net), fwd(c))
        print(f"forward, {WINDOW_BATCH} windows, Inductor {name}: compile {tc:.1f} s; eager {eager:.4f} s, "
              f"compiled {t:.4f} s, eager/compiled {eager / t:.2f}x (max |difference| {diff:.1e})")

    torch._dynamo.reset()
    xt = torch.randn(2, 1, *TINY_PATCH).contiguous(memory_format=torch.channels_last_3d)
    a = cpu_layout(tiny_unet()).train(); b = copy.deepcopy(a)
    opt_a = torch.optim.SGD(a.parameters(), 1e-2, momentum=0.99, nesterov=True)
    opt_b = torch.optim.SGD(b.parameters(), 1e-2, momentum=0.99, nesterov=True)
    cb = torch.compile(b)
    t = time.perf_counter(); train_iteration(cb, opt_b, xt, False)(); tc = time.perf_counter() - t
    te, tt = in_turn(train_iteration(a, opt_a, xt, False), train_iteration(cb, opt_b, xt, False))
    print(f"training iteration, batch 2: compile {tc:.1f} s; eager {te:.3f} s, compiled {tt:.3f} s, eager/compiled {te / tt:.2f}x")
