"""Whole-body PSMA PET lesion segmentation with nnU-Net, reproduced cell by cell (Jafari et al., EJNMMI 2024)

Modules:

- `psma_nb.cli`: One verb per pipeline stage — `convert, phantom, dataset, train, predict, evaluate, report, demo` — with the same conventions everywhere: one-line errors and exit status 2, `--debug`, `--quiet`.
- `psma_nb.config`: `settings.ini`: where the data and nnU-Net's folders live, which dataset id and training preset the study uses, the seed — and the rules by which a flag or an environment variable overrides them.
- `psma_nb.core`: Atomic output files, refusal to overwrite, progress bars that `--quiet` silences, parallel maps over cases, and the voxel-grid check that guards every comparison of two images.
- `psma_nb.study`: psma-nb's common on-disk format: one folder per scan with `SUV.nii.gz`, `CTres.nii.gz`, `SEG.nii.gz` (and optional `ORGANS.nii.gz`), found with `find_studies` and read with validation by `read_study`."""

__version__ = "0.1.0"
