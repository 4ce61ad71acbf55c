"""Hypothesis profiles for the whole suite.

* ``dev`` (default): fast local runs.
* ``ci``: chosen when the ``CI`` environment variable is set; derandomised
  (same examples every run), no example-database writes, no deadline (CI
  machines are shared and noisy).  Hypothesis ships a built-in profile of the
  same name that it loads when it detects CI; registering ours under that name
  replaces it, and loading it here makes ours the one in force
  (tests/test_profiles.py checks this).
* ``fuzz``: long searches (``HYPOTHESIS_PROFILE=fuzz pytest ...``).
"""

import os

from hypothesis import HealthCheck, Phase, settings

settings.register_profile(
    "dev",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz",
    max_examples=20_000,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=list(Phase),
)

PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
settings.load_profile(PROFILE)
