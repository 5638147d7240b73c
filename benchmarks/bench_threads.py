"""Two PyTorch training processes at once on a 2-core CPU: OpenMP's default (threads spin while they wait) vs
`OMP_WAIT_POLICY=PASSIVE` (they sleep), and passive with one thread each (`OMP_NUM_THREADS=1`), against one process
alone; why the README's test command sets both.

    .venv/bin/python benchmarks/bench_threads.py

Each run is a fresh Python process (the OpenMP runtime reads the variable when it loads) doing training steps of a
network of the tiny preset's shape (4 stages, 16-128 features, batch 2, 48^3 patch, float32). Reported: seconds per
step of each process, and the ratio of the pair's throughput to one process alone.
"""
import os, subprocess, sys, textwrap

STEP = textwrap.dedent('''
    import time, torch
    from dynamic_network_architectures.architectures.unet import PlainConvUNet
    net = PlainConvUNet(1, 4, (16, 32, 64, 128), torch.nn.Conv3d, 3, (1, 2, 2, 2), 2, 13, (2, 2, 2), conv_bias=True,
                        norm_op=torch.nn.InstanceNorm3d, norm_op_kwargs={'eps': 1e-5, 'affine': True},
                        nonlin=torch.nn.LeakyReLU, nonlin_kwargs={'inplace': True})
    opt, x = torch.optim.AdamW(net.parameters()), torch.randn(2, 1, 48, 48, 48)
    torch.manual_seed(0); net(x).sum().backward()
    t = time.perf_counter()
    for _ in range(6): opt.zero_grad(); net(x).sum().backward(); opt.step()
    print((time.perf_counter() - t) / 6)
''')

def run(n:int, policy:str|None, threads:int|None=None) -> list[float]:
    "Seconds per step of each of `n` processes started together (`threads`: OMP_NUM_THREADS, None = every core)."
    env = {k: v for k, v in os.environ.items() if k not in ('OMP_WAIT_POLICY', 'OMP_NUM_THREADS')}
    if policy: env['OMP_WAIT_POLICY'] = policy
    if threads: env['OMP_NUM_THREADS'] = str(threads)
    ps = [subprocess.Popen([sys.executable, '-c', STEP], env=env, stdout=subprocess.PIPE, text=True) for _ in range(n)]
    return [float(p.communicate()[0]) for p in ps]

if __name__ == '__main__':
    print(f"{os.cpu_count()} CPUs")
    for policy, threads in ((None, None), ('PASSIVE', None), ('PASSIVE', 1)):
        alone, pair = run(1, policy, threads)[0], run(2, policy, threads)
        name = (policy or 'default (spin)') + (f', {threads} thread' if threads else '')
        print(f"{name:15s} one alone {alone:6.2f} s/step; two at once {pair[0]:6.2f} and {pair[1]:6.2f} s/step: "
              f"the pair does {2 / max(pair) * alone:4.2f}x the work of one alone in the same time")
