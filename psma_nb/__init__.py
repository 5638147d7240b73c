"""Whole-body PSMA PET lesion segmentation with nnU-Net, reproduced cell by cell (Jafari et al., EJNMMI 2024)

Modules:

- `psma_nb.report`: `psma report EVAL_DIR… -o REPORT_DIR`: the study's patient-, lesion- and voxel-level tables for the internal and external test sets beside the published numbers and the threshold baseline, biomarker agreement, lesion sensitivity by site, autoPET volumes, a MIP gallery and everything needed to repeat the run — one self-contained `report.html` and a `report.md`."""

__version__ = "0.1.0"
