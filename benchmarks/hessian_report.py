"""Accuracy and speed report of the Hessian spectral engine, side by side with PyHessian.

Writes ``reports/hessian/report.md`` and ``report.json``.  Reproduce with::

    OPENBLAS_NUM_THREADS=1 python benchmarks/hessian_report.py            # full
    OPENBLAS_NUM_THREADS=1 python benchmarks/hessian_report.py --quick    # smaller

Sections:

1. exact spectra of the digits models (tanh MLP ~2.1k params, BN-CNN, tiny ViT)
   at three training stages (init / partial / converged);
2. trace: median relative error vs product budget -- Hutchinson, Hutch++ and
   the Krylov-deflated Hutchinson estimator (ours);
3. entropy gap (``abs`` on the Hessian, ``ggn`` on the Gauss-Newton matrix):
   median relative error vs budget -- deflated SLQ (ours, default), plain SLQ,
   and PyHessian's single-probe SLQ density (``hessian.density(iter=b, n_v=1)``);
4. per-HVP wall time, ours vs PyHessian, same model and batch, one process;
5. one entropy-gap estimate on a CIFAR ResNet-18 (11.2M parameters, batch 32):
   wall time and peak resident memory (in a subprocess).

The stochastic estimators run on :class:`MatrixOperator` of the exact matrix
(the same products as the autograd operator, to rounding -- tested in
``tests/numerics/hessian/test_trace.py``), so many seeds are cheap; the speed
sections use the autograd operators.  PyHessian 0.1 calls the removed
``torch.eig``; it is patched *here only*, by a context manager.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from numerics.hessian import (
    GGNOperator,
    HessianOperator,
    MatrixOperator,
    dense_matrix,
    entropy_gap_estimate,
    hutchinson_trace,
    hutchpp_trace,
    spectral_summary,
)
from numerics.hessian.lanczos import entropy_gap_from_traces
from numerics.hessian.operators import _math_attention
from numerics.hessian.reference_models import ARCHITECTURES, STAGES, cifar_resnet18, trained_digits_model
from numerics.hessian.trace import krylov_trace

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "reports" / "hessian"


@contextlib.contextmanager
def pyhessian_torch_eig_patch():
    """PyHessian 0.1 calls ``torch.eig(T, eigenvectors=True)`` (removed in torch 2.0)."""
    had = hasattr(torch, "eig")
    old = getattr(torch, "eig", None)

    def eig(T, eigenvectors=True):
        w, V = torch.linalg.eigh(T)
        return torch.stack([w, torch.zeros_like(w)], 1), V

    torch.eig = eig
    try:
        yield
    finally:
        if had:
            torch.eig = old
        else:
            del torch.eig


def pyhessian_available() -> bool:
    try:
        import pyhessian  # noqa: F401
    except ImportError:
        return False
    return True


def pyhessian_slq_gap(model, loss_fn, data, budget: int, seed: int, policy: str) -> float:
    """Entropy gap from PyHessian's single-probe SLQ (``density(iter=budget, n_v=1)``)."""
    from pyhessian import hessian

    torch.manual_seed(seed)
    X, y = data
    # PyHessian double-backprops; the fused CPU attention kernel has no double backward
    with pyhessian_torch_eig_patch(), _math_attention(True):
        h = hessian(model, loss_fn, data=(X, y), cuda=False)
        nodes, weights = h.density(iter=budget, n_v=1)
    theta, w = np.asarray(nodes[0]), np.asarray(weights[0])
    n = sum(p.numel() for p in model.parameters())
    v = np.abs(theta) if policy == "abs" else np.maximum(theta, 0)
    T = n * np.sum(w * v)
    S = n * np.sum(w * np.where(v > 0, v * np.log(np.where(v > 0, v, 1)), 0))
    model.zero_grad(set_to_none=True)
    return entropy_gap_from_traces(n, T, S)


def med_rel(values, exact):
    return float(statistics.median(abs(v - exact) / abs(exact) for v in values))


def exact_section(args):
    cases = {}
    for arch in ARCHITECTURES:
        for stage in STAGES:
            t0 = time.perf_counter()
            model, loss_fn, data = trained_digits_model(
                arch, stage, num_samples=args.train_samples[arch], hessian_samples=args.hessian_samples[arch]
            )
            t1 = time.perf_counter()
            H = dense_matrix(HessianOperator(model, loss_fn, data))
            G = dense_matrix(GGNOperator(model, loss_fn, data))
            eH, eG = np.linalg.eigvalsh(H.numpy()), np.linalg.eigvalsh(G.numpy())
            t2 = time.perf_counter()
            sa, sg = spectral_summary(eH, "abs"), spectral_summary(eG, "error")
            cases[(arch, stage)] = dict(model=model, loss_fn=loss_fn, data=data, H=H, G=G, eH=eH, eG=eG)
            cases[(arch, stage)]["row"] = dict(
                arch=arch, stage=stage, n=int(H.shape[0]), samples=int(data[0].shape[0]),
                trace=sa.trace, top=sa.top_eigenvalue, min=sa.min_eigenvalue, gap_abs=sa.entropy_gap,
                gap_ggn=sg.entropy_gap, train_s=t1 - t0, exact_s=t2 - t1,
            )
            print("exact", cases[(arch, stage)]["row"], flush=True)
    return cases


def trace_section(cases, args):
    rows = []
    for (arch, stage), c in cases.items():
        op = MatrixOperator(c["H"])
        exact = float(np.sum(c["eH"]))
        for b in args.budgets:
            seeds = range(args.seeds)
            e_h = med_rel([hutchinson_trace(op, b, seed=s).value for s in seeds], exact)
            e_pp = med_rel([hutchpp_trace(op, b, seed=s).value for s in seeds], exact)
            ests = [krylov_trace(op, b, seed=s) for s in seeds]
            e_k = med_rel([e.value for e in ests], exact)
            cover = sum(e.contains(exact) for e in ests)
            rows.append(dict(arch=arch, stage=stage, budget=b, hutchinson=e_h, hutchpp=e_pp, krylov=e_k,
                             ratio=e_h / e_k if e_k > 0 else float("inf"), krylov_ci_coverage=f"{cover}/{args.seeds}"))
            print("trace", rows[-1], flush=True)
    return rows


def gap_section(cases, args):
    rows = []
    for (arch, stage), c in cases.items():
        for policy in ("abs", "ggn"):
            mat = c["H"] if policy == "abs" else c["G"]
            op = MatrixOperator(mat, psd=policy == "ggn")
            exact = c["row"]["gap_abs"] if policy == "abs" else c["row"]["gap_ggn"]
            for b in args.gap_budgets:
                seeds = range(args.seeds)
                ours = [entropy_gap_estimate(op, b, policy=policy, seed=s) for s in seeds]
                plain = [entropy_gap_estimate(op, b, policy=policy, deflation_fraction=0, seed=s).value for s in seeds]
                row = dict(arch=arch, stage=stage, policy=policy, budget=b, deflated=med_rel([e.value for e in ours], exact),
                           plain=med_rel(plain, exact), deflated_ci_coverage=f"{sum(e.contains(exact) for e in ours)}/{args.seeds}")
                if policy == "abs" and pyhessian_available() and b in args.pyhessian_budgets:
                    ph = [pyhessian_slq_gap(c["model"], c["loss_fn"], c["data"], b, s, "abs") for s in range(args.pyhessian_seeds)]
                    row["pyhessian"] = med_rel(ph, exact)
                rows.append(row)
                print("gap", row, flush=True)
    return rows


def _time(fn, reps):
    fn()
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t) / reps


def hvp_timing(model, loss_fn, data, reps, rounds=7):
    """Seconds per HVP: PyHessian (retained graph) vs ours (each backend), same model and batch.

    What is timed, per product: PyHessian -- ``hessian_vector_product(gradsH, params, v)``
    (one ``autograd.grad`` on lists of tensors, result a list); ours -- ``op @ v`` on a
    flat vector, including the input checks and the flat result.  Both retain the
    gradient graph built once at set-up (not timed).  The methods are timed in
    alternating blocks of ``reps`` products (``rounds`` blocks each, after one warm-up
    product) and the median block is reported, so load drift on a shared machine
    hits both alike.
    """
    out = {}
    X, y = data
    timers = {}
    if pyhessian_available():
        from pyhessian import hessian
        from pyhessian.utils import hessian_vector_product

        t = time.perf_counter()
        with _math_attention(True):
            h = hessian(model, loss_fn, data=(X, y), cuda=False)
        out["pyhessian_setup"] = time.perf_counter() - t
        v_list = [torch.randn_like(p) for p in h.params]
        timers["pyhessian"] = lambda: hessian_vector_product(h.gradsH, h.params, v_list)
    ops = {}
    for backend in ("double_backward", "forward_over_reverse"):
        t = time.perf_counter()
        op = ops[backend] = HessianOperator(model, loss_fn, data, backend=backend)
        v = torch.randn(op.shape[0], dtype=op.dtype)
        op @ v
        out[f"ours_{backend}_setup"] = time.perf_counter() - t
        timers[f"ours_{backend}"] = (lambda op=op, v=v: op @ v)
    blocks = {k: [] for k in timers}
    for _ in range(rounds):
        for k, fn in timers.items():
            blocks[k].append(_time(fn, reps))
    out.update({k: statistics.median(b) for k, b in blocks.items()})
    out["rounds"], out["reps_per_round"] = rounds, reps
    timers.clear()
    ops.clear()
    model.zero_grad(set_to_none=True)
    t = time.perf_counter()
    model.zero_grad()
    loss_fn(model(X), y).backward()
    out["gradient"] = time.perf_counter() - t
    model.zero_grad(set_to_none=True)
    if "pyhessian" in out:
        out["ratio_ours_to_pyhessian"] = out["ours_double_backward"] / out["pyhessian"]
    return out


def resnet_batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = cifar_resnet18().eval()
    return model, torch.nn.CrossEntropyLoss(), (torch.randn(32, 3, 32, 32, generator=g), torch.randint(0, 10, (32,), generator=g))


def speed_section(cases, args):
    rows = []
    for arch in ARCHITECTURES:
        c = cases[(arch, "partial")]
        model = c["model"].float()
        data = (c["data"][0].float(), c["data"][1])
        r = hvp_timing(model, c["loss_fn"], data, args.reps)
        rows.append(dict(model=f"digits-{arch} (float32, batch {data[0].shape[0]})", **r))
        c["model"].double()
        print("speed", rows[-1], flush=True)
    if args.resnet:
        model, loss_fn, data = resnet_batch()
        r = hvp_timing(model, loss_fn, data, 1, rounds=5)
        rows.append(dict(model="CIFAR ResNet-18 (float32, batch 32)", **r))
        print("speed", rows[-1], flush=True)
    return rows


def resnet_entropy_child(budget: int) -> None:
    torch.set_num_threads(int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 1)
    model, loss_fn, data = resnet_batch()
    t = time.perf_counter()
    op = HessianOperator(model, loss_fn, data)
    est = entropy_gap_estimate(op, budget, policy="abs", seed=0)
    wall = time.perf_counter() - t
    print(json.dumps(dict(
        n=op.shape[0], budget=budget, hvp_count=est.hvp_count, value=est.value, ci=[est.ci_low, est.ci_high],
        wall_s=wall, per_hvp_s=wall / est.hvp_count, peak_rss_gib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        details={k: v for k, v in est.details.items() if isinstance(v, (int, float))},
    )))


def resnet_section(args) -> list[dict]:
    """One entropy-gap estimate per budget, each in a fresh process (so that its peak RSS is its own)."""
    rows = []
    for budget in args.resnet_budget:
        cmd = [sys.executable, __file__, "--resnet-entropy-child", str(budget), "--threads", str(args.threads)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
        rows.append(json.loads(lines[-1]) if lines else {"budget": budget, "error": out.stderr[-2000:]})
        print("resnet", rows[-1], flush=True)
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-resnet", dest="resnet", action="store_false")
    p.add_argument("--resnet-budget", type=int, nargs="+", default=[60, 300],
                   help="HVP budgets of the ResNet-18 entropy-gap estimates (one subprocess each)")
    p.add_argument("--resnet-only", action="store_true",
                   help="rerun only section 5 and update the existing report.json / report.md")
    p.add_argument("--resnet-entropy-child", type=int, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.resnet_entropy_child is not None:
        resnet_entropy_child(args.resnet_entropy_child)
        return
    if args.resnet_only:
        report = json.loads((OUT / "report.json").read_text())
        report["resnet_entropy"] = resnet_section(args)
        (OUT / "report.json").write_text(json.dumps(report, indent=2, default=float))
        (OUT / "report.md").write_text(render_markdown(report))
        print(f"updated section 5 of {OUT / 'report.md'}")
        return
    args.train_samples = {"mlp": None, "cnn": 600, "vit": 600}
    args.hessian_samples = {"mlp": 256, "cnn": 64, "vit": 64}
    args.budgets = [30, 100, 300]
    args.gap_budgets = [100, 300]
    args.pyhessian_budgets = [300] if args.quick else [100, 300]
    args.seeds = 4 if args.quick else 8
    args.pyhessian_seeds = 3 if args.quick else 5
    args.reps = 20
    t0 = time.perf_counter()
    cases = exact_section(args)
    trace_rows = trace_section(cases, args)
    gap_rows = gap_section(cases, args)
    speed_rows = speed_section(cases, args)
    resnet = resnet_section(args) if args.resnet else None
    meta = dict(
        command="OPENBLAS_NUM_THREADS=1 python benchmarks/hessian_report.py" + (" --quick" if args.quick else ""),
        torch=torch.__version__, python=platform.python_version(), threads=args.threads, seeds=args.seeds,
        pyhessian=pyhessian_available(), total_s=time.perf_counter() - t0, machine=platform.machine(),
    )
    report = dict(meta=meta, exact=[c["row"] for c in cases.values()], trace=trace_rows, entropy_gap=gap_rows,
                  speed=speed_rows, resnet_entropy=resnet)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "report.json").write_text(json.dumps(report, indent=2, default=float))
    (OUT / "report.md").write_text(render_markdown(report))
    print(f"wrote {OUT / 'report.md'} in {meta['total_s']:.0f}s")


def _f(x, fmt="{:.3g}"):
    return "–" if x is None else fmt.format(x)


def render_markdown(r) -> str:
    m = r["meta"]
    L = ["# Hessian spectral engine: accuracy and speed report", "",
         f"Reproduce: `{m['command']}` (torch {m['torch']}, {m['threads']} thread(s), CPU, "
         f"{m['seeds']} seeds per cell; PyHessian installed: {m['pyhessian']}; run took {m['total_s']:.0f} s).",
         "Medians over seeds of the relative error against the exact dense spectrum.", "",
         "## 1. Exact spectra (digits, float64)", "",
         "| model | stage | n | batch | tr H | λ_max | λ_min | gap(abs) | gap(GGN) | exact path (s) |",
         "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for e in r["exact"]:
        L.append(f"| {e['arch']} | {e['stage']} | {e['n']} | {e['samples']} | {e['trace']:.4g} | {e['top']:.4g} | "
                 f"{e['min']:.3g} | {e['gap_abs']:.4f} | {e['gap_ggn']:.4f} | {e['exact_s']:.1f} |")
    L += ["", "## 2. Trace: median relative error vs HVP budget", "",
          "Krylov-Hutchinson = Lanczos basis K (half the budget, exact tr KᵀHK) + Hutchinson on (I−KKᵀ)H(I−KKᵀ).", "",
          "| model | stage | HVPs | Hutchinson | Hutch++ | Krylov-Hutchinson (ours) | ratio Hutchinson/ours | 95% CI coverage |",
          "|---|---|---:|---:|---:|---:|---:|---:|"]
    for t in r["trace"]:
        L.append(f"| {t['arch']} | {t['stage']} | {t['budget']} | {t['hutchinson']:.2e} | {t['hutchpp']:.2e} | "
                 f"{t['krylov']:.2e} | {t['ratio']:.1f}x | {t['krylov_ci_coverage']} |")
    L += ["", "## 3. Entropy gap: median relative error vs HVP budget", "",
          "deflated = ours (default: 1/3 of the budget on Lanczos deflation of converged outliers, then 2-4 long SLQ probes; "
          "quadrature: Laurie's averaged Gauss rule for abs, Gauss for GGN); "
          "plain = same SLQ without deflation; PyHessian = its `density(iter=b, n_v=1)` on the model, gap from its nodes/weights.", "",
          "| model | stage | policy | HVPs | deflated SLQ (ours) | plain SLQ | PyHessian SLQ | 95% CI coverage (ours) |",
          "|---|---|---|---:|---:|---:|---:|---:|"]
    for g in r["entropy_gap"]:
        L.append(f"| {g['arch']} | {g['stage']} | {g['policy']} | {g['budget']} | {g['deflated']:.2%} | {g['plain']:.2%} | "
                 f"{_f(g.get('pyhessian'), '{:.2%}')} | {g['deflated_ci_coverage']} |")
    L += ["", "## 4. Per-HVP wall time (same process, same model and batch)", "",
          "Timed: PyHessian `hessian_vector_product(gradsH, params, v)` on lists of tensors vs our `op @ v` on a flat "
          "vector (input checks and flat result included); both replay a gradient graph retained at set-up. "
          "Alternating blocks (digits: 7 blocks of 20 products; ResNet-18: 5 blocks of 1), median block.", "",
          "| model | PyHessian (ms) | ours, double backward (ms) | ours, forward-over-reverse (ms) | gradient (ms) | ratio ours/PyHessian |",
          "|---|---:|---:|---:|---:|---:|"]
    for s in r["speed"]:
        ms = lambda k: _f(s.get(k) and s[k] * 1e3, "{:.2f}")  # noqa: E731
        L.append(f"| {s['model']} | {ms('pyhessian')} | {ms('ours_double_backward')} | {ms('ours_forward_over_reverse')} | "
                 f"{ms('gradient')} | {_f(s.get('ratio_ours_to_pyhessian'), '{:.2f}')} |")
    rs_all = r.get("resnet_entropy")
    if isinstance(rs_all, dict):  # reports written before several budgets were supported
        rs_all = [rs_all]
    L += ["", "## 5. One entropy-gap estimate on CIFAR ResNet-18 (batch 32, float32, CPU)", "",
          "Rerun this section alone: `OPENBLAS_NUM_THREADS=1 python benchmarks/hessian_report.py --resnet-only`.", ""]
    for rs in rs_all or [None]:
        if rs and "error" not in rs:
            L.append(f"- n = {rs['n']:,} parameters; budget {rs['budget']} HVPs ({rs['hvp_count']} used); wall "
                     f"{rs['wall_s']:.0f} s ({rs['per_hvp_s']:.2f} s per HVP incl. set-up); peak RSS "
                     f"{rs['peak_rss_gib']:.2f} GiB; gap(abs) = {rs['value']:.4f}, 95% CI [{rs['ci'][0]:.4f}, "
                     f"{rs['ci'][1]:.4f}].")
        else:
            L.append(f"- not run or failed: {rs}")
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    main()
