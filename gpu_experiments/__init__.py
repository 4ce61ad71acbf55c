"""Training ResNet-18 and ViT with SGD, Adam, Lion and tanh-Lion, and the Hessian metrics on real networks.

The third use of the suite: ``python -m gpu_experiments run --preset ...``
reproduces the experiment of Tan & Huang (arXiv 2502.20763, its five tables) with
explicit, documented metrics, and checks the statements' bounds on the measured
spectra.

Modules: :mod:`.data` (digits, CIFAR-10 from disk, synthetic CIFAR-shaped),
:mod:`.models` (CIFAR ResNet-18, ViT -- defined in :mod:`numerics.hessian.reference_models`
-- and tiny test models), :mod:`.optimizers` (Lion, tanh-Lion) with
:mod:`.optimizer_defaults`, :mod:`.snr_moments` and :mod:`.lion_oracles`,
:mod:`.presets` (one TOML recipe file per preset in ``presets/``), :mod:`.metrics`
(checkpoint metrics on the Hessian engine :mod:`numerics.hessian`),
:mod:`.training` (one resumable grid cell), :mod:`.persistence` (atomic files,
weights-only state, per-cell locks), :mod:`.distributed` (``torchrun``: DDP and
cell sharding), :mod:`.runner` (the grid, progress display), :mod:`.report`
(Markdown) with :mod:`.report_records`, :mod:`.report_statistics`,
:mod:`.report_claims`, :mod:`.report_theory`, :mod:`.report_figures`,
:mod:`.study` (the tanh-Lion study), :mod:`.gradient_channel` with :mod:`.channel_estimators`,
``__main__`` (CLI).
"""
