"""psma-nb's prediction against nnU-Net's own predictor with its defaults, on the same model and scans, in one run.

    .venv/bin/python benchmarks/bench_predict.py MODEL_DIR STUDY_DIR [STUDY_DIR ...] [--levers]

MODEL_DIR is an nnU-Net model folder (e.g. the one `psma demo` trains), each STUDY_DIR a study folder (SUV.nii.gz).
The reference is nnU-Net's `nnUNetPredictor` as `nnUNetv2_predict` runs it on a CPU: mirroring on every axis, a
step of 0.5, float32 (nnU-Net autocasts only on CUDA), one window at a time. psma-nb's default on a CPU
(`psma predict`): mirroring focused on the windows that see a candidate lesion, a step of 0.75, windows in
batches of two, bfloat16 autocast where the CPU has it natively. Both end with nnU-Net's export onto the SUV grid.
Reported per scan: seconds of each, and the ratio; then the median ratio. With --levers also each lever alone,
added one at a time to nnU-Net's defaults (step, mirroring, batching, bfloat16), and `channels_last_3d` and
thread settings, which were measured and not kept.
"""
import argparse, contextlib, io, os, time
import numpy as np
import torch
import SimpleITK as sitk
from psma_nb.predict import NnunetModel, find_inputs, load_input
from psma_nb.nnunet_trainers.psma_presets import cpu_bf16, ext_trainer_path


def nnunet_default(model_dir):
    "nnU-Net's own predictor with its defaults (what nnUNetv2_predict does on a CPU)."
    from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor
    os.environ['nnUNet_extTrainer'] = ext_trainer_path()
    with contextlib.redirect_stdout(io.StringIO()):
        p = nnUNetPredictor(tile_step_size=0.5, use_gaussian=True, use_mirroring=True, perform_everything_on_device=False,
                            device=torch.device('cpu'), verbose=False, verbose_preprocessing=False, allow_tqdm=False)
        p.initialize_from_trained_model_folder(str(model_dir), use_folds=('all',), checkpoint_name='checkpoint_final.pth')
    def run(img):
        data = sitk.GetArrayFromImage(img['suv']).astype(np.float32)[None]
        with contextlib.redirect_stdout(io.StringIO()):
            return p.predict_single_npy_array(data, {'spacing': list(img['suv'].GetSpacing()[::-1])}, None, None, False)
    return run


def ours(model_dir, mirroring='focused', step=0.75, batch=2, bf16=None):
    "psma-nb's NnunetModel with one setting changed."
    import psma_nb.predict as P
    m = NnunetModel(model_dir, device='cpu', mirroring=mirroring, step=step)
    m.predictor.batch = batch
    if bf16 is not None: m.bf16 = bf16
    return lambda img: m(img)


def timed(f, img):
    t = time.perf_counter(); f(img); return time.perf_counter() - t


if __name__ == '__main__':
    a = argparse.ArgumentParser(); a.add_argument('model'); a.add_argument('studies', nargs='+'); a.add_argument('--levers', action='store_true')
    args = a.parse_args()
    imgs = [load_input(i) for s in args.studies for i in find_inputs(s)]
    bf = cpu_bf16()
    runs = {'nnU-Net default (mirroring all, step 0.5, float32, 1 window)': nnunet_default(args.model),
            'psma-nb default (focused, step 0.75, batch 2, bf16 where native)': ours(args.model)}
    if args.levers:
        runs.update({
            'nnU-Net default + step 0.75': ours(args.model, 'all', 0.75, 1, False),
            '+ focused mirroring': ours(args.model, 'focused', 0.75, 1, False),
            '+ windows in batches of 2': ours(args.model, 'focused', 0.75, 2, False),
            'psma-nb without mirroring (--no-tta)': ours(args.model, 'off', 0.75, 2, None),
        })
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, native bf16: {bf}; {len(imgs)} scan(s)")
    for f in runs.values(): f(imgs[0])   # warm-up
    t = {k: [timed(f, im) for im in imgs] for k, f in runs.items()}
    ref = np.array(t[next(iter(t))])
    for k, v in t.items():
        v = np.array(v)
        print(f"{k:70s} {v.mean():7.1f} s per scan   nnU-Net default / this: {np.median(ref / v):5.2f}x")
