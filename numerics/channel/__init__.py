"""The Gaussian binary channel of Definition 4.1, each quantity with an mpmath oracle.

Model: ``Y`` uniform on {−1, +1}, ``X | Y ~ N(Yμ, σ²)``. Everything depends on
the signal-to-noise ratio ``s = |μ|/σ`` only (scale and sign invariance), and is
in nats. Writing ``Z ~ N(0, 1)`` and conditioning on ``Y = +1``
(``2μX/σ² = 2s(s + Z)`` in law):

* ``H(Y|X) = E[softplus(−2s(s + Z))]`` and ``I(X;Y) = log 2 − H(Y|X)``;
* ``P_e* = Φ(−s)`` (Bayes error, Thm 4.3);
* ``I(sign X; Y) = log 2 − H_b(Φ(−s))`` (a binary symmetric channel);
* ``I(T; Y) = E_T[ KL(P(Y|T) ‖ P(Y)) ] = ∫ f_T(t) g(v(t)) dt`` for a strictly
  monotone statistic ``T``, where ``f_T`` is the density of T (change of
  variables, Jacobian included), ``v(t) = ½ log f_T(t|+1)/f_T(t|−1)`` is half the
  posterior log-odds and ``g(v) = log 2 − H_b(1/(1+e^{2v})) = v tanh v − log cosh v``.

Stability (why the float code is not the textbook formula):

* ``I(X;Y)`` at s ≤ 1 is ``s² R(s)`` with ``R = 1 − E[(s+Z)² r(s(s+Z))]``,
  ``r(u) = log cosh(u)/u²``, using ``softplus(−2v) = log 2 − v + log cosh v``. No
  ``log 2 − H`` cancellation, so the relative error stays O(eps) down to
  s ~ 1e-150 (where I ~ s²/2 underflows).
* ``H(Y|X)`` at s > 1 is ``e^{−s²/2}/s · J(s)``, ``J(s) = ∫ φ(v/s) e^v softplus(−2v) dv``
  (substitute ``z = v/s − s``): the integrand is O(1) on a window of width O(1)
  for every s, so quad never misses the mass near ``z = −s`` that has width 1/s.
* ``I(sign X; Y)`` at s ≤ 1 is ``d atanh d + ½ log1p(−d²)``, ``d = erf(s/√2)``.
* ``I(tanh(μX/σ²); Y)`` integrates over t ∈ (−1, 1) in three charts: t itself on
  [−½, ½] and ``ρ = log(1 − |t|)`` near ±1, because at s ≳ 4 the mass of T sits
  closer to ±1 than float64 can resolve in t (at s = 30, 1 − |t| ~ e^{−1800}).
* Beyond s = 38.5, ``Φ(−s)`` underflows and ``log 2 − H_b(Φ(−s)) ≤ I(T;Y) ≤ log 2``
  (data processing: sign is a function of X and of tanh(μX/σ²)) pins every
  information to log 2 in float64; those values are returned without quadrature.

Reference: T. M. Cover, J. A. Thomas, Elements of Information Theory (2006),
ch. 2 and 8 (mutual information, data processing, Fano); the channel is
Definition 4.1 of the paper under test (Tan & Huang 2025), and its Section 4 statements
(``thm-4.2`` to ``sec-4.1/max-entropy``) are listed in docs/statements.md.


The code is split by concept: :mod:`._numerics` (input checks, double-double helpers),
:mod:`.information` (float64 quantities), :mod:`.rules` (decision rules and their errors),
:mod:`.oracles` (mpmath/backend oracles); the public names are importable from here.
"""

from __future__ import annotations

from numerics.channel._numerics import LOG2, SNR_SATURATION
from numerics.channel.information import (
    QUAD_ACCEPT,
    bayes_error,
    conditional_entropy_y_given_x,
    information_of_statistic,
    information_sign,
    information_tanh,
    log_bayes_error,
    mutual_information,
)
from numerics.channel.oracles import (
    bayes_error_mp,
    conditional_entropy_y_given_x_mp,
    decision_error_mp,
    information_of_statistic_mp,
    information_sign_mp,
    information_tanh_mp,
    log_bayes_error_mp,
    mutual_information_mp,
)
from numerics.channel.rules import IntervalRule, RandomizedRule, ThresholdRule, decision_error, logistic_rule

__all__ = [
    "LOG2", "QUAD_ACCEPT", "SNR_SATURATION",
    "bayes_error", "conditional_entropy_y_given_x", "information_of_statistic", "information_sign",
    "information_tanh", "log_bayes_error", "mutual_information",
    "bayes_error_mp", "conditional_entropy_y_given_x_mp", "decision_error_mp", "information_of_statistic_mp",
    "information_sign_mp", "information_tanh_mp", "log_bayes_error_mp", "mutual_information_mp",
    "IntervalRule", "RandomizedRule", "ThresholdRule", "decision_error", "logistic_rule",
]
