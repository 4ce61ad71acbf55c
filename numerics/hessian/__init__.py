"""Hessian spectral engine: exact and stochastic spectra of real networks.

Modules (one concept each):

* :mod:`.operators` -- ``HessianOperator``, ``GGNOperator``, ``MatrixOperator``
  (linear operators with ``@``, ``shape``, ``dtype``, ``device``, ``hvp_count``;
  :mod:`.linear_operator` and :mod:`.model_operators` hold them);
* :mod:`.distributed` -- data-parallel products over ``torch.distributed``;
* :mod:`.probes` -- random probes and seeds (shared across ranks);
* :mod:`.krylov` -- Lanczos runs, top eigenpairs, deflation pairs;
* :mod:`.entropy_gap` -- the entropy-gap estimator: pilot allocation, error budget, memory modes;
* :mod:`.pyhessian_style` -- ``hessian(model, criterion, data=...)`` with PyHessian's methods;
* :mod:`.dense` -- exact dense matrix and full spectrum, memory-checked;
* :mod:`.trace` -- Hutchinson, Hutch++, Krylov-deflated Hutchinson (the default to use), diagonal and
  ``tr(diag(H)^{1/2})``;
* :mod:`.lanczos` -- stochastic Lanczos quadrature, entropy gap / Rényi from SLQ,
  condition number;
* :mod:`.blocks` -- per-parameter-tensor report and deviation among blocks;
* :mod:`.estimate` -- the :class:`Estimate` result type and its intervals;
* :mod:`.progress` -- progress bars and interrupt handling;
* :mod:`.reference_models` -- small validation networks and a CIFAR ResNet-18.
"""

from .dense import ExactTooLargeError, SpectralSummary, dense_matrix, full_spectrum, spectral_summary
from .entropy_gap import entropy_gap_estimate
from .estimate import Estimate
from .lanczos import (
    Eigenpairs,
    SLQResult,
    condition_number_estimate,
    entropy_gap_from_slq,
    lanczos,
    renyi_entropy_from_slq,
    slq,
    top_eigenpairs,
)
from .operators import GGNOperator, HessianOperator, MatrixOperator
from .progress import EstimationInterrupted, PartialResultWarning
from .pyhessian_style import Hessian, hessian
from .trace import diagonal_estimate, hutchinson_trace, hutchpp_trace, krylov_trace, sqrt_diagonal_trace

__all__ = [
    "Eigenpairs",
    "Estimate",
    "EstimationInterrupted",
    "ExactTooLargeError",
    "GGNOperator",
    "Hessian",
    "HessianOperator",
    "MatrixOperator",
    "PartialResultWarning",
    "SLQResult",
    "SpectralSummary",
    "condition_number_estimate",
    "dense_matrix",
    "diagonal_estimate",
    "entropy_gap_estimate",
    "entropy_gap_from_slq",
    "full_spectrum",
    "hessian",
    "hutchinson_trace",
    "hutchpp_trace",
    "krylov_trace",
    "lanczos",
    "renyi_entropy_from_slq",
    "slq",
    "spectral_summary",
    "sqrt_diagonal_trace",
    "top_eigenpairs",
]
