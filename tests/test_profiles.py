"""The Hypothesis profile in force is ours, also when CI is set (Hypothesis has a built-in 'ci')."""

import os
import subprocess
import sys
from pathlib import Path

from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]


def _profile_under(env_extra: dict) -> dict:
    code = (
        "import json, sys; sys.path.insert(0, '.'); import conftest; from hypothesis import settings as s; "
        "d = s.default; print(json.dumps({'profile': conftest.PROFILE, 'max_examples': d.max_examples, "
        "'derandomize': d.derandomize, 'database': repr(d.database), 'deadline': repr(d.deadline)}))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "HYPOTHESIS_PROFILE")}
    env.update(env_extra)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    import json

    return json.loads(out.stdout.strip().splitlines()[-1])


def test_ci_env_selects_our_ci_profile():
    got = _profile_under({"CI": "true"})
    assert got["profile"] == "ci"
    assert got["derandomize"] is True
    assert got["database"] == "None"
    # Hypothesis's built-in 'ci' profile keeps max_examples=100 and a database; ours differs
    assert got["max_examples"] == settings.get_profile("ci").max_examples == 60


def test_default_is_dev_and_fuzz_is_long():
    got = _profile_under({})
    assert got["profile"] == "dev"
    assert got["derandomize"] is False
    assert settings.get_profile("fuzz").max_examples >= 10_000


def test_explicit_profile_wins():
    assert _profile_under({"CI": "true", "HYPOTHESIS_PROFILE": "fuzz"})["max_examples"] == 20_000
