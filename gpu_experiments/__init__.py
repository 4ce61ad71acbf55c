"""Training ResNet-18 and ViT with SGD, Adam, Lion and tanh-Lion, and the Hessian metrics on real networks.

The third use of the suite: ``python -m gpu_experiments run --preset ...``
reproduces the experiment of Tan & Huang (arXiv 2502.20763, its five tables) with
explicit, documented metrics, and feeds the measured spectra back to the theorem
checkers.

Modules: :mod:`.data` (digits, CIFAR-10 from disk, synthetic CIFAR-shaped),
:mod:`.models` (CIFAR ResNet-18, ViT, tiny test models), :mod:`.optimizers`
(Lion, tanh-Lion), :mod:`.presets` (one TOML recipe file per preset in
``presets/``), :mod:`.metrics` (checkpoint metrics on the Hessian engine
:mod:`numerics.hessian`), :mod:`.training` (one resumable grid cell),
:mod:`.runner` (the grid, progress display), :mod:`.report` (tables in the
paper's layout, figures, theory cross-check, claims), ``__main__`` (CLI).
"""
