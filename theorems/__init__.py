"""Executable statements of the paper (listed in docs/statements.md): checkers, verdicts, campaigns.

Public API for users' own statements: :class:`Inequality` (claims ``lhs ≤ rhs``
or identities over a Hypothesis domain), :class:`Statement` (anything else),
:class:`Verdict`, and the exact-input helpers.
"""

from theorems.inequality import Inequality  # noqa: F401
from theorems.statement import (  # noqa: F401
    Counterexample,
    Result,
    Statement,
    Verdict,
    exactify,
    floatify,
    normalise_exact,
)
