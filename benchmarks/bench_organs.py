"""Cost of organ co-supervision: one training iteration and one forward pass of the tiny network with its organ
branch (organ-aware preset, 12 organ groups) against the same network without it (lesions only), in one process.

    .venv/bin/python benchmarks/bench_organs.py [MODEL_WITH_ORGANS [MODEL_WITHOUT] STUDY_DIR]

Batch of 2 patches of 48³ (the tiny preset's), the losses the trainers use (`LesionOrganLoss` with deep supervision
against nnU-Net's Dice + CE), AdamW, bfloat16 autocast where native, as the trainer runs it. Reported: median seconds
over 5 repetitions and the ratio with/without. Goal (issue: training time rises by at most 10 %): ≤ 1.10×. Given trained
model folders (organ-aware, optionally lesions-only) and a study, also one whole scan through `psma predict`'s model (the organ map exported too), and
the organ map tidied to one piece per organ and redrawn by the PET (`tidy_organs`, `redraw_organs`: the default) against
nnU-Net's export of it alone.
"""
import sys, time
import numpy as np
import torch
from psma_nb.train import TINY_PATCH
from psma_nb.nnunet_trainers.psma_presets import cpu_bf16, OrganAwareUNet, LesionOrganLoss, _dc_ce
from nnunetv2.training.loss.deep_supervision import DeepSupervisionWrapper
from bench_training import tiny_unet, median_time


def iteration(net, loss, opt, x, t, bf16):
    def f():
        opt.zero_grad(set_to_none=True)
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
            out = net(x)
        l = loss([o.float() for o in out], t)
        l.backward(); opt.step()
    return f


def forward(net, x, bf16):
    def f():
        with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16): net(x)
    return f


if __name__ == '__main__':
    torch.manual_seed(0); np.random.seed(0)
    bf16 = cpu_bf16()
    x = torch.randn(2, 1, *TINY_PATCH)
    lab = torch.randint(0, 13, (2, 1, *TINY_PATCH)).float()
    targets = [lab[..., ::s, ::s, ::s] for s in (1, 2, 4)]
    w = np.array([1, 0.5, 0.25]); w[-1] = 0; w = w / w.sum()
    res = {}
    for name in ('lesions only', 'organ-aware'):
        torch.manual_seed(0)
        net = tiny_unet()
        if name == 'organ-aware':
            net = OrganAwareUNet(net, 13)
            loss = DeepSupervisionWrapper(LesionOrganLoss(13), w)
        else:
            plain = _dc_ce(True)
            loss = DeepSupervisionWrapper(lambda o, t: plain(o, (t == 1).float()), w)
        opt = torch.optim.AdamW(net.parameters(), 1e-3, amsgrad=True)
        net.train(); t_it = median_time(iteration(net, loss, opt, x, targets, bf16))
        net.decoder.deep_supervision = False; net.eval(); t_fw = median_time(forward(net, x[:1], bf16))
        res[name] = (t_it, t_fw)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, native bf16: {bf16}")
    for i, what in enumerate(('training iteration', 'forward pass (one window)')):
        a, b = res['lesions only'][i], res['organ-aware'][i]
        print(f"{what:28s} lesions only {a * 1e3:6.0f} ms, organ-aware {b * 1e3:6.0f} ms, ratio {b / a:.3f}")
    if len(sys.argv) in (3, 4):   # MODEL_WITH_ORGANS [MODEL_WITHOUT] STUDY_DIR
        from psma_nb.predict import NnunetModel, find_inputs, load_input
        img = load_input(find_inputs(sys.argv[-1])[0])
        runs = [('organ-aware', sys.argv[1], True), ('organ-aware, map as exported', sys.argv[1], False)]
        if len(sys.argv) == 4: runs.append(('lesions only', sys.argv[2], True))
        t = {}
        for name, m, redraw in runs:
            model = NnunetModel(m, device='cpu', mirroring='off', step=0.75)
            t[name] = median_time(lambda: model(img, redraw=redraw), reps=3, warm=1)
        if 'lesions only' in t:
            print(f"{'one scan, psma predict (no mirroring)':28s} lesions only {t['lesions only']:.2f} s, organ-aware "
                  f"{t['organ-aware']:.2f} s, ratio {t['organ-aware'] / t['lesions only']:.3f}")
        a, b = t['organ-aware, map as exported'], t['organ-aware']
        print(f"one scan, organ map tidied and redrawn by the PET (tidy_organs, redraw_organs: the default) {b:.2f} s vs as nnU-Net exports it "
              f"{a:.2f} s, ratio {b / a:.3f}")
