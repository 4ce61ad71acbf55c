"""Peak memory of the Hessian engine's estimators vs its memory model (and vs PyHessian).

Memory model (``numerics.hessian.entropy_gap``): an entropy-gap estimate of ``N``
products with deflation run ``d`` and probe depth ``s`` keeps at most

* ``memory="standard"``: ``(max(d, s) + k + c) · n`` numbers (deflation basis, then
  one probe's basis, plus the ``k`` kept Ritz vectors and ``c`` work vectors and allocator slack);
* ``memory="low"``:      ``(min(d, 32) + k + c) · n`` (probes without re-orthogonalisation);

the engine before this model kept all ``d`` Ritz vectors next to the basis,
``(2d + c) · n``.  PyHessian's ``density(iter=s)`` keeps its ``s`` Lanczos vectors.

Each case runs in a fresh subprocess; its *estimator* peak is ``ru_maxrss`` after
minus the resident set size before (the operator and the data already built), in
units of ``n`` float32 numbers -- the measured ``c`` of the model.  Usage::

    python benchmarks/hessian_memory.py                 # synthetic n = 10^6 + wide MLP; writes JSON
    python benchmarks/hessian_memory.py --resnet        # also ResNet-18 (batch 2), low-memory mode
    python benchmarks/hessian_memory.py --before DIR    # also the engine at DIR (a checkout of numerics/)
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "reports" / "hessian" / "memory.json"


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize()


def _peak_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child(case: str, budget: int, code_root: str | None) -> dict:
    if code_root:
        sys.path.insert(0, code_root)
    import numpy as np
    import torch

    torch.set_num_threads(1)
    from numerics.hessian.operators import CurvatureOperator

    class DiagonalOperator(CurvatureOperator):
        """``diag(λ)``: 8 outliers in [100, 1000] over a bulk in [-0.05, 1] (float32)."""

        def __init__(self, n):
            super().__init__(n, torch.float32, torch.device("cpu"))
            rng = np.random.default_rng(0)
            lam = np.concatenate([rng.uniform(100, 1000, 8), rng.uniform(-0.05, 1.0, n - 8)])
            self.d = torch.tensor(lam, dtype=torch.float32)

        def _matmat(self, X):
            return self.d[:, None] * X

    if case.startswith("synthetic"):
        op = DiagonalOperator(1_000_000)
        n = op.shape[0]
    else:
        from torch import nn

        if case.startswith("resnet"):
            from numerics.hessian.reference_models import cifar_resnet18

            g = torch.Generator().manual_seed(0)
            torch.manual_seed(0)
            model = cifar_resnet18().eval()
            data = (torch.randn(2, 3, 32, 32, generator=g), torch.randint(0, 10, (2,), generator=g))
        else:  # wide tanh MLP, ~1.08M parameters
            torch.manual_seed(0)
            model = nn.Sequential(nn.Linear(64, 1000), nn.Tanh(), nn.Linear(1000, 1000), nn.Tanh(), nn.Linear(1000, 10))
            g = torch.Generator().manual_seed(0)
            data = (torch.randn(32, 64, generator=g), torch.randint(0, 10, (32,), generator=g))
        n = sum(p.numel() for p in model.parameters())
        if "pyhessian" in case:
            from pyhessian import hessian

            from benchmarks.hessian_report import pyhessian_torch_eig_patch

            with pyhessian_torch_eig_patch():
                h = hessian(model, nn.CrossEntropyLoss(), data=data, cuda=False)
                before = _rss_bytes()
                t = time.perf_counter()
                h.density(iter=budget, n_v=1)
            return dict(case=case, n=n, budget=budget, before=before, peak=_peak_bytes(),
                        wall_s=time.perf_counter() - t)
        from numerics.hessian import HessianOperator

        op = HessianOperator(model, nn.CrossEntropyLoss(), data)
        op @ torch.zeros(n)  # build the retained graph before the baseline
    from numerics.hessian import entropy_gap_estimate, slq

    before = _rss_bytes()
    t = time.perf_counter()
    info = {}
    if case.endswith("slq"):
        slq(op, 1, budget, seed=0)
    elif case.endswith("low"):
        est = entropy_gap_estimate(op, budget, seed=0, memory="low")
        info = {k: est.details.get(k) for k in ("deflation_steps", "num_deflated", "probe_steps", "probes")}
    else:
        est = entropy_gap_estimate(op, budget, seed=0)
        info = {k: est.details.get(k) for k in ("deflation_steps", "num_deflated", "probe_steps", "probes")}
    return dict(case=case, n=n, budget=budget, before=before, peak=_peak_bytes(), wall_s=time.perf_counter() - t,
                **info)


def run_case(case, budget, code_root=None) -> dict:
    cmd = [sys.executable, __file__, "--child", case, "--budget", str(budget)]
    if code_root:
        cmd += ["--code-root", code_root]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        r = dict(case=case, budget=budget, error=out.stderr[-1500:])
        print(json.dumps(r), flush=True)
        return r
    r = json.loads(lines[-1])
    r["estimator_peak_vectors"] = (r["peak"] - r["before"]) / (4 * r["n"])
    r["estimator_peak_gib"] = (r["peak"] - r["before"]) / 2**30
    r["process_peak_gib"] = r["peak"] / 2**30
    r["code"] = "before" if code_root else "current"
    print(json.dumps(r), flush=True)
    return r


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--budget", type=int, default=300)
    p.add_argument("--code-root", default=None, help=argparse.SUPPRESS)
    p.add_argument("--before", default=None, help="directory holding an older numerics/ package to compare")
    p.add_argument("--resnet", action="store_true")
    p.add_argument("--pyhessian", action="store_true", help="also PyHessian density(iter=100) on the wide MLP")
    args = p.parse_args(argv)
    if args.child:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(child(args.child, args.budget, args.code_root), default=lambda o: o.item()))
        return
    rows = [run_case("synthetic-standard", 300), run_case("synthetic-low", 300)]
    if args.before:
        rows.append(run_case("synthetic-standard", 300, args.before))
    rows += [run_case("mlp-slq", 100)]
    if args.pyhessian:
        rows.append(run_case("mlp-pyhessian", 100))
    if args.resnet:
        rows.append(run_case("resnet-low", 300))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(rows, indent=2))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
