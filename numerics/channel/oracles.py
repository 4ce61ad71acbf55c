"""mpmath oracles of the channel quantities (scalar μ, σ; textbook integrands at raised precision).

Each takes ``dps`` or a ``backend`` (see :mod:`numerics.backends`), like the entropy oracles."""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable

import mpmath

from numerics.backends import MP, Arb, to_fraction
from numerics.channel._numerics import (  # noqa: F401
    _SD_GRID,
    _extra_digits,
    _mp_snr,
    _mu_sigma,
)
from numerics.channel.information import (  # noqa: F401
    _merge_close,
)
from numerics.channel.rules import (  # noqa: F401
    IntervalRule,
    RandomizedRule,
    ThresholdRule,
    _rule_grid,
)
from numerics.quadrature import mp_quad_pieces

# ----------------------------------------------------------------------------
# mpmath oracles (scalar μ, σ; textbook integrands at raised working precision)
# ----------------------------------------------------------------------------

_INV_SQRT_2PI = {}


def _ncdf_mp(x):
    """``Φ(x)``; mpmath.ncdf itself overflows a float inside its series check for |x| ≳ 1e150, so
    far tails use the asymptotic series ``Φ(−x) = φ(x)/x · Σ_k (−1)^k (2k−1)!!/x^{2k}``
    (five terms; truncation < 945/x^10, below 10^-(dps+5) at the switch point)."""
    if mpmath.isinf(x):
        return mpmath.mpf(1) if x > 0 else mpmath.mpf(0)
    switch = mpmath.mpf(10) ** (mpmath.mp.dps / 10 + 1)
    if abs(x) < switch:
        return mpmath.ncdf(x)
    a = abs(x)
    tail = mpmath.exp(-a * a / 2 - mpmath.log(a) - mpmath.log(2 * mpmath.pi) / 2) * _asym_series(a)
    return tail if x < 0 else 1 - tail


def _asym_series(a):
    inv = 1 / (a * a)
    return 1 - inv * (1 - 3 * inv * (1 - 5 * inv * (1 - 7 * inv)))


def _log_ncdf_neg_mp(s):
    """``log Φ(−s)`` for s ≥ 0, finite for any s (log of the asymptotic form in the far tail)."""
    switch = mpmath.mpf(10) ** (mpmath.mp.dps / 10 + 1)
    if s < switch:
        return mpmath.log(mpmath.ncdf(-s))
    return -s * s / 2 - mpmath.log(s) - mpmath.log(2 * mpmath.pi) / 2 + mpmath.log(_asym_series(s))


def _phi_mp(z):
    prec = mpmath.mp.prec
    if prec not in _INV_SQRT_2PI:
        _INV_SQRT_2PI[prec] = 1 / mpmath.sqrt(2 * mpmath.pi)
    return mpmath.exp(-z * z / 2) * _INV_SQRT_2PI[prec]


def _mp_quad(f, pts):
    """``mpmath.quad`` of ``f`` over consecutive ``pts`` (see :func:`numerics.quadrature.mp_quad_pieces`)."""
    return mp_quad_pieces([(f, a, b) for a, b in zip(pts[:-1], pts[1:])])


def _cond_entropy_quad_mp(s):
    """``H(Y|X) = ∫ φ(z) log(1 + e^{−2s(s+z)}) dz`` by tanh-sinh with breakpoints around z = −s."""
    w = min(mpmath.mpf(1), 1 / s)
    pts = sorted({-s - 40 * w, -s - 10 * w, -s - w, -s, -s + w, -s + 10 * w, mpmath.mpf(0)})
    pts = [-mpmath.inf] + pts + [mpmath.inf]
    return _mp_quad(lambda z: _phi_mp(z) * mpmath.log1p(mpmath.exp(-2 * s * (s + z))), pts)


#: Below this SNR the oracle switches to the Taylor series I = s²/2 − s⁴/4 + O(s⁶):
#: relative truncation error ≤ s⁴ < 1e-100, beyond 50 digits.
_MP_SERIES_SNR = mpmath.mpf("1e-25")


def mutual_information_mp(mu, sigma, dps: int = 50):
    """Oracle for :func:`mutual_information`: ``log 2 − ∫ φ(z) log(1 + e^{−2s(s+z)}) dz`` at
    ``dps`` + guard digits (2 log10(1/s) more at small s for the cancellation); below
    s = 1e-25 the series ``s²/2 − s⁴/4`` (error < s⁶)."""
    s, _, _ = _mp_snr(mu, sigma, dps)
    with mpmath.workdps(dps + _extra_digits(s)):
        if s == 0:
            return mpmath.mpf(0)
        if s < _MP_SERIES_SNR:
            val = s**2 / 2 - s**4 / 4
        else:
            val = mpmath.log(2) - _cond_entropy_quad_mp(s)
    with mpmath.workdps(dps):
        return +val


def conditional_entropy_y_given_x_mp(mu, sigma, dps: int = 50):
    """Oracle for :func:`conditional_entropy_y_given_x` (the same integral, no subtraction)."""
    s, _, _ = _mp_snr(mu, sigma, dps)
    with mpmath.workdps(dps + 10):
        val = mpmath.log(2) if s == 0 else _cond_entropy_quad_mp(s)
    with mpmath.workdps(dps):
        return +val


def bayes_error_mp(mu, sigma, dps: int = 50):
    """Oracle for :func:`bayes_error`: ``mpmath.ncdf(−|μ|/σ)`` (asymptotic series beyond 1e6)."""
    s, _, _ = _mp_snr(mu, sigma, dps)
    with mpmath.workdps(dps):
        return _ncdf_mp(-s)


def log_bayes_error_mp(mu, sigma, dps: int = 50):
    """Oracle for :func:`log_bayes_error`."""
    s, _, _ = _mp_snr(mu, sigma, dps)
    with mpmath.workdps(dps + 10):
        val = _log_ncdf_neg_mp(s)
    with mpmath.workdps(dps):
        return +val


def information_sign_mp(mu, sigma, dps: int = 50):
    """Oracle for :func:`information_sign`: ``log 2 − H_b(Φ(−s))`` at raised precision."""
    s, _, _ = _mp_snr(mu, sigma, dps)
    with mpmath.workdps(dps + _extra_digits(s)):
        p = _ncdf_mp(-s)
        hb = -(p * mpmath.log(p) + (1 - p) * mpmath.log1p(-p)) if p != 0 else mpmath.mpf(0)
        val = mpmath.log(2) - hb
    with mpmath.workdps(dps):
        return +val


def _statistic_integrand_mp(mu, sigma, x_and_jac):
    """The textbook integrand ``½ Σ_y f_T(t|y) log(f_T(t|y)/f_T(t))`` in a chart c of t;
    ``x_and_jac(c)`` returns ``x = T⁻¹(t(c))`` and ``|dx/dt|·|dt/dc|``."""
    def f(c):
        x, jac = x_and_jac(c)
        fp = _phi_mp((x - mu) / sigma) / sigma * jac
        fm = _phi_mp((x + mu) / sigma) / sigma * jac
        fbar = (fp + fm) / 2
        return mpmath.fsum(fy * mpmath.log(fy / fbar) for fy in (fp, fm) if fy != 0) / 2
    return f


def information_tanh_mp(mu, sigma, dps: int = 50):
    """Oracle for :func:`information_tanh`: the textbook ``½ Σ_y ∫ f_T(t|y) log(f_T(t|y)/f_T(t)) dt``
    with the original μ, σ (no reduction to the SNR), ``x(t) = σ² atanh(t)/μ``,
    ``|dx/dt| = σ²/(|μ|(1 − t²))``, in the same three charts of (−1, 1) as the float code
    (near ±1 the chart ``ρ = log(1 − |t|)`` carries 1 − |t| exactly at any magnitude).
    Guard digits: log10(1/s) + 10 for the cancellation between the two y terms."""
    s, m, sg = _mp_snr(mu, sigma, dps)
    if s == 0:
        return mpmath.mpf(0)
    guard = 10 + max(0, int(math.ceil(-float(mpmath.log10(s)))))
    with mpmath.workdps(dps + guard):
        k = m / sg**2
        ak = abs(k)
        u_half = mpmath.atanh(mpmath.mpf(1) / 2)

        def t_chart(t):  # c = t on [−½, ½]: x = atanh(t)/k, |dx/dt| = 1/(|k|(1 − t²))
            return mpmath.atanh(t) / k, 1 / (ak * (1 - t * t))

        def rho_chart(sign):
            # c = ρ = log(1 − |t|), t = sign·(1 − e^ρ): atanh|t| = ½(log(2 − e^ρ) − ρ) without
            # forming 1 − r, and |dx/dt|·|dt/dρ| = e^ρ / (|k| e^ρ (2 − e^ρ)) = 1/(|k|(2 − e^ρ))
            def ch(rho):
                r = mpmath.exp(rho)
                return sign * (mpmath.log(2 - r) - rho) / (2 * k), 1 / (ak * (2 - r))
            return ch

        up, down = rho_chart(1), rho_chart(-1)

        def rho_of(u):
            return mpmath.log(1 - mpmath.tanh(abs(u))) if abs(u) < 20 else \
                mpmath.log(2) - 2 * abs(u) - mpmath.log1p(mpmath.exp(-2 * abs(u)))

        u_hi = s * s + 40 * s
        grid = {y * s * s + j * s for y in (-1, 1) for j in _SD_GRID} | {-u_half, u_half}
        us = sorted(u for u in grid if -u_hi <= u <= u_hi)
        pieces = []
        for a, b in zip(us[:-1], us[1:]):
            if b <= -u_half:
                chart, ca, cb = down, rho_of(a), rho_of(b)
            elif a >= u_half:
                chart, ca, cb = up, rho_of(b), rho_of(a)
            else:
                chart, ca, cb = t_chart, mpmath.tanh(a), mpmath.tanh(b)
            pieces.append((_statistic_integrand_mp(m, sg, chart), ca, cb))
        total = mp_quad_pieces(pieces)
    with mpmath.workdps(dps):
        return +total


def _mp_invert(T, t, xa, xb, ta, tb):
    """The x in [xa, xb] with T(x) = t (T monotone, T(xa) = ta, T(xb) = tb): Illinois regula falsi,
    bracketing and superlinear, to the working precision."""
    fa, fb = ta - t, tb - t
    if fa == 0 or (fa > 0) == (fb > 0):  # t at (or by rounding past) an end of the bracket
        return xa if abs(fa) <= abs(fb) else xb
    tol = abs(xb - xa) * mpmath.eps * 4
    floor = 8 * mpmath.eps * max(abs(ta), abs(tb))  # T is only known to this accuracy
    side = 0
    for _ in range(400):
        x = (xa * fb - xb * fa) / (fb - fa)
        fx = T(x) - t
        if fx == 0 or abs(xb - xa) < tol:
            return x
        if (fx > 0) == (fb > 0):
            xb, fb = x, fx
            if side == -1:
                fa /= 2
            side = -1
        else:
            xa, fa = x, fx
            if side == 1:
                fb /= 2
            side = 1
        if abs(xb - xa) <= tol * 4 or abs(fx) <= floor:
            return x
    raise ArithmeticError("inverting the statistic did not converge")


def information_of_statistic_mp(statistic: Callable, mu, sigma, *, inverse: Callable | None = None,
                                derivative: Callable | None = None, dps: int = 50):
    """Oracle for :func:`information_of_statistic`: textbook integrand in t at ``dps`` + guard digits.

    ``statistic`` (and ``inverse``/``derivative`` if given) must accept mpf; the default inverse is
    ``mpmath.findroot`` (bracketed), the default derivative ``mpmath.diff``.
    """
    s, m, sg = _mp_snr(mu, sigma, dps)
    if s == 0:
        return mpmath.mpf(0)
    guard = 10 + max(0, int(math.ceil(-float(mpmath.log10(s)))))
    with mpmath.workdps(dps + guard):
        xs = _merge_close(sorted({y * m + j * sg for y in (-1, 1) for j in _SD_GRID}), sg / 10**9)
        ts = [statistic(x) for x in xs]
        increasing = ts[1] > ts[0]
        pieces = []
        for xa, xb, ta, tb in zip(xs[:-1], xs[1:], ts[:-1], ts[1:]):
            if (tb > ta) != increasing or ta == tb:
                raise ValueError("statistic is not strictly monotone on the mass region of X")
            pieces.append((xa, xb, ta, tb))
        integrals = []
        for xa, xb, ta, tb in pieces:
            def x_and_jac(t, xa=xa, xb=xb, ta=ta, tb=tb):
                x = inverse(t) if inverse is not None else _mp_invert(statistic, t, xa, xb, ta, tb)
                d = derivative(x) if derivative is not None else mpmath.diff(statistic, x)
                return x, 1 / abs(d)

            lo, hi = (ta, tb) if increasing else (tb, ta)
            integrals.append((_statistic_integrand_mp(m, sg, x_and_jac), lo, hi))
        total = mp_quad_pieces(integrals)
    with mpmath.workdps(dps):
        return +total


def decision_error_mp(rule, mu, sigma, dps: int = 50):
    """Oracle for :func:`decision_error`: ``mpmath.ncdf`` closed forms for threshold/interval
    rules, ``mpmath.quad`` for randomised ones."""
    _, m, sg = _mp_snr(mu, sigma, dps)
    with mpmath.workdps(dps + 10):
        if isinstance(rule, ThresholdRule):
            t = mpmath.mpf(float(rule.threshold))
            if rule.reverse:
                val = (_ncdf_mp((m - t) / sg) + _ncdf_mp((t + m) / sg)) / 2
            else:
                val = (_ncdf_mp((t - m) / sg) + _ncdf_mp(-(t + m) / sg)) / 2
        elif isinstance(rule, IntervalRule):
            edges = [-mpmath.inf] + [mpmath.mpf(e) for e in rule.edges] + [mpmath.inf]
            terms = []
            for (a, b), p in zip(zip(edges[:-1], edges[1:]), rule.prob_plus):
                p = mpmath.mpf(p)

                def prob(shift, a=a, b=b):
                    za, zb = (a - shift) / sg, (b - shift) / sg
                    # same-side tails, as the float code, but at 60 digits either way is exact enough
                    return _ncdf_mp(-za) - _ncdf_mp(-zb) if za >= 0 else _ncdf_mp(zb) - _ncdf_mp(za)

                terms.append((1 - p) * prob(m) + p * prob(-m))
            val = mpmath.fsum(terms) / 2
        elif isinstance(rule, RandomizedRule):
            qp = rule.prob_plus_mp or rule.prob_plus
            qm = rule.prob_minus_mp or (lambda x: 1 - qp(x))

            def f(x):
                return (qm(x) * _phi_mp((x - m) / sg) + qp(x) * _phi_mp((x + m) / sg)) / (2 * sg)

            val = _mp_quad(f, _rule_grid(rule, m, sg))
        else:
            raise TypeError(f"rule must be a ThresholdRule, IntervalRule or RandomizedRule, got {type(rule).__name__}")
    with mpmath.workdps(dps):
        return +val


# ----------------------------------------------------------------------------
# backends: ``backend=MP(dps)`` sets the working digits, ``backend=Arb(prec)`` gives a
# certified ball for the closed forms (the quadratures have no Arb enclosure here)
# ----------------------------------------------------------------------------

def _arb_snr(B, mu, sigma):
    _mu_sigma(float(mu), float(sigma))  # the float code's checks (finite, σ > 0)
    m, s = B.num(to_fraction(mu)), B.num(to_fraction(sigma))  # a float is its exact binary rational
    return abs(m) / s


def _bayes_error_arb(B, mu, sigma):
    return B.ncdf(-_arb_snr(B, mu, sigma))


def _log_bayes_error_arb(B, mu, sigma):
    return B.log(B.ncdf(-_arb_snr(B, mu, sigma)))


def _information_sign_arb(B, mu, sigma):
    p = B.ncdf(-_arb_snr(B, mu, sigma))
    return B.log(B.num(2)) + p * B.log(p) + (1 - p) * B.log1p(-p)


def _with_backend(fn, arb_form=None):
    """Give an oracle ``backend=``: ``MP`` → its digits; ``Arb`` → ``arb_form`` or a clear refusal."""
    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def oracle(*args, backend=None, **kwargs):
        if backend is None:
            return fn(*args, **kwargs)
        if isinstance(backend, MP):
            bound = sig.bind(*args, **kwargs)
            bound.arguments["dps"] = backend.dps
            return fn(*bound.args, **bound.kwargs)
        if isinstance(backend, Arb):
            if arb_form is None:
                raise ValueError(f"{fn.__name__}: no Arb enclosure (the value is a quadrature); "
                                 "pass backend=MP(dps) for a high-precision value")
            bound = sig.bind(*args, **kwargs)
            bound.arguments.pop("dps", None)
            with backend as B:
                return arb_form(B, *bound.args, **bound.kwargs)
        raise TypeError(f"backend must be numerics.backends.MP or Arb, got {type(backend).__name__}")

    oracle.__signature__ = sig.replace(parameters=[*sig.parameters.values(), inspect.Parameter(
        "backend", inspect.Parameter.KEYWORD_ONLY, default=None)])
    return oracle


mutual_information_mp = _with_backend(mutual_information_mp)
conditional_entropy_y_given_x_mp = _with_backend(conditional_entropy_y_given_x_mp)
bayes_error_mp = _with_backend(bayes_error_mp, _bayes_error_arb)
log_bayes_error_mp = _with_backend(log_bayes_error_mp, _log_bayes_error_arb)
information_sign_mp = _with_backend(information_sign_mp, _information_sign_arb)
information_tanh_mp = _with_backend(information_tanh_mp)
information_of_statistic_mp = _with_backend(information_of_statistic_mp)
decision_error_mp = _with_backend(decision_error_mp)
