"""Accuracy, memory and speed report of the Hessian spectral engine, side by side with PyHessian.

Writes ``reports/hessian/report.md`` and ``report.json``.  Reproduce with::

    OPENBLAS_NUM_THREADS=1 python benchmarks/hessian_report.py --seeds 30
    python benchmarks/hessian_memory.py --pyhessian --resnet     # section 6 (reports/hessian/memory.json)

Sections:

1. exact spectra of the digits models (tanh MLP ~2.1k params, BN-CNN, tiny ViT)
   at three training stages (init / partial / converged), float64;
2. trace: relative error (median and 90th percentile over seeds) -- Hutchinson vs
   the Krylov-deflated Hutchinson estimator (ours), and the coverage of its interval;
3. entropy gap at 300 products (``abs`` on the Hessian, ``ggn`` on the Gauss-Newton
   matrix): ours (pilot allocation, default), the previous fixed split (3 probes),
   and ``memory="low"``; median, 90th percentile, interval coverage, against the goal 0.5 %;
4. time to a 1 % entropy-gap error (median over seeds), ours vs PyHessian's SLQ
   ``density(iter, n_v)``, both on the autograd operator of the same model in one run;
5. batched products: seconds per vector of ``op.matmat(V)`` for ``k`` columns vs ``k`` single products;
6. peak memory vs the memory model (from ``benchmarks/hessian_memory.py``);
7. per-HVP wall time, ours vs PyHessian, same model and batch, one process.

Sections 2-3 run the estimators on :class:`MatrixOperator` of the exact matrix
(the same products as the autograd operator, to rounding -- tested in
``tests/numerics/hessian/test_trace.py``), so many seeds are cheap; sections 4-5
and 7 use the autograd operators.  PyHessian 0.1 calls the removed ``torch.eig``;
it is patched *here only*, by a context manager.  Progress is printed per cell;
Ctrl-C stops the run (cells finished so far are in ``report.partial.json``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
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
    spectral_summary,
)
from numerics.hessian.lanczos import entropy_gap_from_traces
from numerics.hessian.operators import _math_attention
from numerics.hessian.reference_models import ARCHITECTURES, STAGES, cifar_resnet18, trained_digits_model
from numerics.hessian.trace import krylov_trace

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "reports" / "hessian"
GOAL_GAP = 5e-3  # entropy-gap goal: median relative error <= 0.5 % at <= 300 products


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


def pyhessian_slq_gap(model, loss_fn, data, budget: int, seed: int, policy: str, n_v: int = 1) -> float:
    """Entropy gap from PyHessian's SLQ, ``density(iter=budget // n_v, n_v)`` (probe-averaged traces)."""
    from pyhessian import hessian

    torch.manual_seed(seed)
    X, y = data
    # PyHessian double-backprops; the fused CPU attention kernel has no double backward
    with pyhessian_torch_eig_patch(), _math_attention(True):
        h = hessian(model, loss_fn, data=(X, y), cuda=False)
        nodes, weights = h.density(iter=budget // n_v, n_v=n_v)
    n = sum(p.numel() for p in model.parameters())
    T = S = 0.0
    for theta, w in zip(nodes, weights):
        theta, w = np.asarray(theta), np.asarray(w)
        v = np.abs(theta) if policy == "abs" else np.maximum(theta, 0)
        T += n * np.sum(w * v) / n_v
        S += n * np.sum(w * np.where(v > 0, v * np.log(np.where(v > 0, v, 1)), 0)) / n_v
    model.zero_grad(set_to_none=True)
    return entropy_gap_from_traces(n, T, S)


def rel_errors(values, exact) -> np.ndarray:
    return np.array([abs(v - exact) / abs(exact) for v in values])


def spread(errors) -> dict:
    e = np.asarray(errors, dtype=np.float64)
    return {"median": float(np.median(e)), "p90": float(np.quantile(e, 0.9)), "max": float(e.max())}


def _save_partial(report):
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "report.partial.json").write_text(json.dumps(report, indent=2, default=float))


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
            top = np.sort(np.abs(eH))[::-1]
            cases[(arch, stage)]["row"] = dict(
                arch=arch, stage=stage, n=int(H.shape[0]), samples=int(data[0].shape[0]),
                trace=sa.trace, top=sa.top_eigenvalue, min=sa.min_eigenvalue, gap_abs=sa.entropy_gap,
                gap_ggn=sg.entropy_gap, train_s=t1 - t0, exact_s=t2 - t1,
                # share of Σ|λ| in the 10 largest |λ|: "outlier-dominated" when large
                top10_share=float(top[:10].sum() / top.sum()),
            )
            print("exact", cases[(arch, stage)]["row"], flush=True)
    return cases


def cached_cases(path, with_models: bool = False, args=None) -> dict:
    """Exact matrices from a pickle ``{(arch, stage): (H, G)}`` (numpy, float64) written by ``--save-matrices``."""
    import pickle

    with open(path, "rb") as fh:
        mats = pickle.load(fh)
    cases = {}
    for (arch, stage), (H, G) in mats.items():
        eH, eG = np.linalg.eigvalsh(H), np.linalg.eigvalsh(G)
        sa, sg = spectral_summary(eH, "abs"), spectral_summary(eG, "error")
        top = np.sort(np.abs(eH))[::-1]
        cases[(arch, stage)] = dict(H=torch.from_numpy(H), G=torch.from_numpy(G), eH=eH, eG=eG, row=dict(
            arch=arch, stage=stage, n=int(H.shape[0]), samples=args_samples(arch), trace=sa.trace,
            top=sa.top_eigenvalue, min=sa.min_eigenvalue, gap_abs=sa.entropy_gap, gap_ggn=sg.entropy_gap,
            train_s=float("nan"), exact_s=float("nan"), top10_share=float(top[:10].sum() / top.sum())))
        if with_models:  # the same deterministic training as exact_section, without the dense matrices
            model, loss_fn, data = trained_digits_model(
                arch, stage, num_samples=args.train_samples[arch], hessian_samples=args.hessian_samples[arch])
            cases[(arch, stage)].update(model=model, loss_fn=loss_fn, data=data)
    return cases


def args_samples(arch) -> int:
    return {"mlp": 256, "cnn": 64, "vit": 64}[arch]


def _selected(cases, cells):
    return {k: c for k, c in cases.items() if not cells or f"{k[0]}/{k[1]}" in cells}


def trace_section(cases, args):
    rows = []
    for (arch, stage), c in _selected(cases, args.trace_cells).items():
        op = MatrixOperator(c["H"])
        exact = float(np.sum(c["eH"]))
        for b in args.trace_budgets.get(arch, args.budgets):
            seeds = range(args.seeds)
            e_h = rel_errors([hutchinson_trace(op, b, seed=s).value for s in seeds], exact)
            ests = [krylov_trace(op, b, seed=s) for s in seeds]
            e_k = rel_errors([e.value for e in ests], exact)
            rows.append(dict(arch=arch, stage=stage, budget=b, hutchinson=spread(e_h), krylov=spread(e_k),
                             ratio_median=float(np.median(e_h) / max(np.median(e_k), 1e-300)),
                             ratio_p90=float(np.quantile(e_h, 0.9) / max(np.quantile(e_k, 0.9), 1e-300)),
                             coverage=float(np.mean([e.contains(exact) for e in ests]))))
            print("trace", rows[-1], flush=True)
    return rows


GAP_CONFIGS = {
    "ours": {},
    "adaptive": {"allocation": "adaptive"},
    "low_memory": {"memory": "low"},
}


def gap_section(cases, args):
    rows = []
    for (arch, stage), c in _selected(cases, args.cells).items():
        for policy in ("abs", "ggn"):
            op = MatrixOperator(c["H"] if policy == "abs" else c["G"], psd=policy == "ggn")
            exact = c["row"]["gap_abs"] if policy == "abs" else c["row"]["gap_ggn"]
            row = dict(arch=arch, stage=stage, policy=policy, budget=args.gap_budget)
            for name, kw in GAP_CONFIGS.items():
                if name != "ours" and policy == "ggn":  # CPU time: the variants on the Hessian (abs) only
                    continue
                if name not in args.gap_configs:
                    continue
                if name == "low_memory" and args.low_memory_cells and f"{arch}/{stage}" not in args.low_memory_cells:
                    continue
                t = time.perf_counter()
                ests = [entropy_gap_estimate(op, args.gap_budget, policy=policy, seed=s, **kw)
                        for s in range(args.seeds)]
                e = rel_errors([x.value for x in ests], exact)
                row[name] = dict(spread(e), coverage=float(np.mean([x.contains(exact) for x in ests])),
                                 half_width=float(np.median([x.half_width for x in ests]) / abs(exact)),
                                 probes=int(np.median([x.num_probes for x in ests])),
                                 steps=int(np.median([x.details["probe_steps"] for x in ests])),
                                 deflated=int(np.median([x.details["num_deflated"] for x in ests])),
                                 seconds=(time.perf_counter() - t) / args.seeds)
            rows.append(row)
            print("gap", row, flush=True)
    return rows


def _ours_gap(model, loss_fn, data, budget, seed, policy="abs"):
    op = HessianOperator(model, loss_fn, data)
    return entropy_gap_estimate(op, budget, policy=policy, seed=seed).value


def time_to_accuracy_section(cases, args):
    """Smallest budget whose median error over seeds is <= 1 %, and the median wall time there."""
    rows = []
    for key in args.tta_cases:
        c = cases[key]
        exact = c["row"]["gap_abs"]
        methods = {f"ours (N={b})": (b, lambda s, b=b: _ours_gap(c["model"], c["loss_fn"], c["data"], b, s))
                   for b in args.tta_budgets}
        if pyhessian_available():
            for b, n_v in args.tta_pyhessian:
                if True:
                    methods[f"PyHessian (iter={b // n_v}, n_v={n_v})"] = (
                        b, lambda s, b=b, n_v=n_v: pyhessian_slq_gap(c["model"], c["loss_fn"], c["data"], b, s, "abs",
                                                                     n_v))
        results = []
        for name, (b, fn) in methods.items():
            vals, walls = [], []
            for s in range(args.tta_seeds):
                t = time.perf_counter()
                vals.append(fn(s))
                walls.append(time.perf_counter() - t)
            e = rel_errors(vals, exact)
            results.append(dict(method=name, budget=b, **spread(e), wall_s=float(np.median(walls))))
            print("tta", key, results[-1], flush=True)

        def first_ok(prefix):
            ok = [r for r in results if r["method"].startswith(prefix) and r["median"] <= 0.01]
            return min(ok, key=lambda r: r["wall_s"]) if ok else None

        rows.append(dict(arch=key[0], stage=key[1], results=results, ours=first_ok("ours"),
                         pyhessian=first_ok("PyHessian")))
    return rows


def batched_section(cases, args):
    """Seconds per vector of one ``matmat`` with k columns vs k single products (float32, double backward)."""
    rows = []
    for arch in ARCHITECTURES:
        c = cases[(arch, "partial")]
        model = c["model"].float()
        data = (c["data"][0].float(), c["data"][1])
        op = HessianOperator(model, c["loss_fn"], data)
        for k in (1, 4, 16):
            V = torch.randn(op.shape[0], k)
            rows_v = V.T.contiguous()  # single products take contiguous vectors, as Lanczos does
            op @ rows_v[0]
            op.matmat(V)
            singles, batched = [], []
            for _ in range(5):
                t = time.perf_counter()
                for j in range(k):
                    op @ rows_v[j]
                singles.append((time.perf_counter() - t) / k)
                t = time.perf_counter()
                op.matmat(V)
                batched.append((time.perf_counter() - t) / k)
            rows.append(dict(model=arch, k=k, single_ms=1e3 * statistics.median(singles),
                             batched_ms=1e3 * statistics.median(batched),
                             ratio=statistics.median(batched) / statistics.median(singles)))
            print("batched", rows[-1], flush=True)
        c["model"].double()
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
    data = (torch.randn(32, 3, 32, 32, generator=g), torch.randint(0, 10, (32,), generator=g))
    return model, torch.nn.CrossEntropyLoss(), data


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
        wall_s=wall, per_hvp_s=wall / est.hvp_count,
        peak_rss_gib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
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
    p.add_argument("--seeds", type=int, default=30, help="seeds per accuracy cell (>= 30 for the goals)")
    p.add_argument("--quick", action="store_true", help="5 seeds, fewer configurations (smoke run)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--resnet", action="store_true", help="also the ResNet-18 entropy-gap runs (slow)")
    p.add_argument("--resnet-budget", type=int, nargs="+", default=[60, 300],
                   help="HVP budgets of the ResNet-18 entropy-gap estimates (one subprocess each)")
    p.add_argument("--resnet-only", action="store_true",
                   help="rerun only the ResNet-18 section and update the existing report.json / report.md")
    p.add_argument("--resnet-entropy-child", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--part", choices=["accuracy", "speed"], default=None,
                   help="run only sections 2-3 (accuracy) or 4, 5, 7 (speed) and save part_<name>.json")
    p.add_argument("--merge", action="store_true", help="render report.md/.json from the parts")
    p.add_argument("--part-suffix", default="", help="suffix of the part file (several accuracy runs)")
    p.add_argument("--tta-seeds", type=int, default=None, help="seeds of the time-to-accuracy section")
    p.add_argument("--tta-cells", default="mlp/init", help="time-to-accuracy cells arch/stage,...")
    p.add_argument("--cells", default=None, help="accuracy cells arch/stage,... (default: all nine)")
    p.add_argument("--gap-configs", default="ours,adaptive,low_memory", help="entropy-gap variants to run")
    p.add_argument("--trace-cells", default=None, help="trace cells arch/stage,... (default: all nine)")
    p.add_argument("--low-memory-cells", default=None, help="cells of the low-memory variant (default: all)")
    p.add_argument("--matrices", default=None, help="load the exact matrices (accuracy part) from this pickle")
    p.add_argument("--save-matrices", default=None, help="save the exact matrices to this pickle")
    args = p.parse_args(argv)
    if args.seeds < 1:
        raise SystemExit("--seeds must be >= 1")
    torch.set_num_threads(args.threads)
    if args.resnet_entropy_child is not None:
        resnet_entropy_child(args.resnet_entropy_child)
        return
    previous = json.loads((OUT / "report.json").read_text()) if (OUT / "report.json").exists() else {}
    if args.resnet_only:
        previous["resnet_entropy"] = resnet_section(args)
        (OUT / "report.json").write_text(json.dumps(previous, indent=2, default=float))
        (OUT / "report.md").write_text(render_markdown(previous))
        print(f"updated the ResNet-18 section of {OUT / 'report.md'}")
        return
    if args.quick:
        args.seeds = min(args.seeds, 5)
    args.train_samples = {"mlp": None, "cnn": 600, "vit": 600}
    args.hessian_samples = {"mlp": 256, "cnn": 64, "vit": 64}
    args.budgets = [100, 300]
    # CPU time on a shared machine: 100 products only on the smallest model (CNN, n = 868)
    args.trace_budgets = {"cnn": [100, 300], "mlp": [300], "vit": [300]}
    args.cells = [c for c in (args.cells or "").split(",") if c]
    args.trace_cells = [c for c in (args.trace_cells or "").split(",") if c]
    args.low_memory_cells = [c for c in (args.low_memory_cells or "").split(",") if c]
    args.gap_configs = args.gap_configs.split(",")
    args.gap_budget = 300
    args.tta_cases = [tuple(c.split("/")) for c in args.tta_cells.split(",")]
    # PyHessian's density re-orthogonalises in Python over lists of tensors: O(iter²) per probe, 35 s for
    # iter=300 on the MLP under load -- so (products, n_v) pairs are chosen, not a full grid
    args.tta_pyhessian = [(100, 1), (300, 1), (300, 3), (600, 3)]
    args.tta_budgets = [100, 300, 600]
    args.tta_seeds = min(args.seeds, args.tta_seeds) if args.tta_seeds else args.seeds
    args.reps = 20
    t0 = time.perf_counter()
    meta = dict(
        command="OPENBLAS_NUM_THREADS=1 python benchmarks/hessian_report.py --seeds "
                f"{args.seeds}" + (f" --tta-seeds {args.tta_seeds}" if args.tta_seeds else "")
                + (" --quick" if args.quick else "")
                + " --part accuracy|speed --save-matrices/--matrices FILE, then --merge",
        torch=torch.__version__, python=platform.python_version(), threads=args.threads, seeds=args.seeds,
        pyhessian=pyhessian_available(), machine=platform.machine(), load_before=os.getloadavg())
    if args.merge:
        report = previous_parts(meta)
    else:
        report = dict(meta=meta)
        parts = [args.part] if args.part else ["accuracy", "speed"]
        try:
            if args.matrices:
                cases = cached_cases(args.matrices, with_models="speed" in parts, args=args)
            else:
                cases = exact_section(args)
            if args.save_matrices:
                import pickle

                with open(args.save_matrices, "wb") as fh:
                    pickle.dump({k: (c["H"].numpy(), c["G"].numpy()) for k, c in cases.items()}, fh)
            report["exact"] = [c["row"] for c in cases.values()]
            if "accuracy" in parts:
                report["trace"] = trace_section(cases, args)
                _save_partial(report)
                report["entropy_gap"] = gap_section(cases, args)
                _save_partial(report)
            if "speed" in parts:
                report["time_to_accuracy"] = time_to_accuracy_section(cases, args)
                _save_partial(report)
                report["batched"] = batched_section(cases, args)
                report["speed"] = speed_section(cases, dict_args(args, resnet=False))
        except KeyboardInterrupt:
            _save_partial(report)
            raise SystemExit(f"interrupted: finished sections saved in {OUT / 'report.partial.json'}") from None
        report["meta"]["total_s"] = time.perf_counter() - t0
        report["meta"]["load_after"] = os.getloadavg()
        if args.part:
            OUT.mkdir(parents=True, exist_ok=True)
            (OUT / f"part_{args.part}{args.part_suffix}.json").write_text(json.dumps(report, indent=2, default=float))
            (OUT / "report.partial.json").unlink(missing_ok=True)
            print(f"wrote {OUT / f'part_{args.part}.json'}; render with --merge when both parts are done")
            return
    report["resnet_entropy"] = resnet_section(args) if args.resnet else previous.get("resnet_entropy")
    report["resnet_entropy_rerun"] = bool(args.resnet)
    mem = OUT / "memory.json"
    report["memory"] = json.loads(mem.read_text()) if mem.exists() else None
    dist = OUT / "distributed.json"
    report["distributed"] = json.loads(dist.read_text()) if dist.exists() else None
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "report.json").write_text(json.dumps(report, indent=2, default=float))
    (OUT / "report.md").write_text(render_markdown(report))
    (OUT / "report.partial.json").unlink(missing_ok=True)
    print(f"wrote {OUT / 'report.md'} in {report['meta'].get('total_s', 0):.0f}s")


def previous_parts(meta) -> dict:
    """Merge ``part_accuracy.json`` and ``part_speed.json`` (two processes run side by side)."""
    report = dict(meta=meta)
    walls, loads = [], []
    paths = sorted(OUT.glob("part_accuracy*.json")) + sorted(OUT.glob("part_speed*.json"))
    if not paths:
        print("warning: no part_*.json (run --part accuracy / --part speed); sections are left out", file=sys.stderr)
    for path in paths:
        data = json.loads(path.read_text())
        for key in ("trace", "entropy_gap"):  # several accuracy parts (cell subsets): concatenate
            if key in data and key in report:
                data[key] = report[key] + data[key]
        walls.append(data["meta"].get("total_s", 0))
        loads += [data["meta"].get("load_before", [0])[0], data["meta"].get("load_after", [0])[0]]
        report["meta"]["seeds"] = data["meta"]["seeds"]
        report.update({k: v for k, v in data.items() if k != "meta"})
    report["meta"]["total_s"] = max(walls) if walls else 0.0
    report["meta"]["load_before"], report["meta"]["load_after"] = [min(loads or [0])], [max(loads or [0])]
    return report


def dict_args(args, **override):
    ns = argparse.Namespace(**vars(args))
    for k, v in override.items():
        setattr(ns, k, v)
    return ns


def _f(x, fmt="{:.3g}"):
    return "–" if x is None else fmt.format(x)


def _pct(x):
    return "–" if x is None else f"{x:.2%}"


def render_markdown(r) -> str:
    m = r["meta"]
    L = ["# Hessian spectral engine: accuracy, memory and speed report", "",
         f"Reproduce: `{m['command']}` (torch {m['torch']}, {m['threads']} thread(s), CPU, "
         f"{m['seeds']} seeds per cell; PyHessian installed: {m['pyhessian']}; run took {m.get('total_s', 0):.0f} s; "
         f"load average before/after {m.get('load_before', ['?'])[0]:.1f}/{m.get('load_after', ['?'])[0]:.1f} "
         "on a shared 2-core machine).",
         "Errors are relative to the exact dense float64 spectrum; *median* and *p90* are over seeds "
         "(the 90th percentile shows the per-seed spread).", "",
         "## 1. Exact spectra (digits, float64)", "",
         "top-10 share = Σ of the 10 largest |λ| / Σ|λ| (bulk-dominated when small, outlier-dominated when large).  "
         "exact path = nan: the matrices came from the cache (`--matrices`) of an earlier run of this section "
         "(60-75 s per model under load 10).", "",
         "| model | stage | n | batch | tr H | λ_max | λ_min | top-10 share | gap(abs) | gap(GGN) | exact path (s) |",
         "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for e in r["exact"]:
        L.append(f"| {e['arch']} | {e['stage']} | {e['n']} | {e['samples']} | {e['trace']:.4g} | {e['top']:.4g} | "
                 f"{e['min']:.3g} | {e.get('top10_share', float('nan')):.2f} | {e['gap_abs']:.4f} | "
                 f"{e['gap_ggn']:.4f} | "
                 f"{e['exact_s']:.1f} |")
    L += ["", "## 2. Trace: relative error, Hutchinson vs Krylov-deflated Hutchinson (ours)", "",
          "Krylov-Hutchinson = Lanczos basis K (half the budget, exact tr KᵀHK, summed in float64) + Hutchinson on "
          "(I−KKᵀ)H(I−KKᵀ); coverage = share of seeds whose 95 % interval contains the exact trace.", "",
          "| model | stage | HVPs | Hutchinson median | Hutchinson p90 | ours median | ours p90 | ratio (median) | "
          "ratio (p90) | coverage |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for t in r.get("trace") or []:
        L.append(f"| {t['arch']} | {t['stage']} | {t['budget']} | {t['hutchinson']['median']:.2e} | "
                 f"{t['hutchinson']['p90']:.2e} | {t['krylov']['median']:.2e} | {t['krylov']['p90']:.2e} | "
                 f"{t['ratio_median']:.1f}x | {t['ratio_p90']:.1f}x | {t['coverage']:.2f} |")
    worse = [t for t in r.get("trace") or [] if t["ratio_median"] < 1]
    L += ["", "Goal 'never worse than Hutchinson': " + ("met in every cell (median)." if not worse else
          "missed (median) in " + ", ".join(f"{t['arch']}/{t['stage']}/{t['budget']} ({t['ratio_median']:.2f}x)"
                                            for t in worse) + ".")]
    gaps = r.get("entropy_gap") or []
    L += ["", f"## 3. Entropy gap at {gaps[0]['budget'] if gaps else 300} HVPs", "",
          "ours = default (deflation run N/3, then 3 probes of equal depth; interval = probe (t, jackknife) + "
          "quadrature (Gauss/anti-Gauss bracket and half-depth change) + deflation (Ritz residuals) half-widths); "
          "adaptive = `allocation='adaptive'` (a two-probe pilot chooses the depth from the measured quadrature "
          "error and probe variance); low memory = `memory='low'` (deflation run capped at 32 stored vectors, "
          "probes without re-orthogonalisation).  Goal: median ≤ 0.50 %.  half-width = median interval "
          "half-width / exact gap.  – : variant not run in this report (CPU time on a shared machine).", "",
          "| model | stage | policy | ours median | ours p90 | coverage | half-width | probes × depth | deflated | "
          "adaptive median | adaptive p90 | low-mem median | low-mem p90 | goal |",
          "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    missed = []
    for g in gaps:
        o, f, lo = g["ours"], g.get("adaptive"), g.get("low_memory")
        ok = o["median"] <= GOAL_GAP
        if not ok:
            missed.append(f"{g['arch']}/{g['stage']}/{g['policy']} ({o['median']:.2%})")
        L.append(f"| {g['arch']} | {g['stage']} | {g['policy']} | {o['median']:.2%} | {o['p90']:.2%} | "
                 f"{o['coverage']:.2f} | {o['half_width']:.2%} | {o['probes']} × {o['steps']} | {o['deflated']} | "
                 f"{_pct(f and f['median'])} | {_pct(f and f['p90'])} | {_pct(lo and lo['median'])} | "
                 f"{_pct(lo and lo['p90'])} | {'met' if ok else '**missed**'} |")
    L += ["", "Goal (median ≤ 0.5 % in every cell): " + ("met." if not missed else
          f"**missed in {len(missed)} of {len(gaps)} cells**: " + ", ".join(missed) + ".")]
    tta = r.get("time_to_accuracy") or []
    L += ["", "## 4. Time to a 1 % entropy-gap error (abs), ours vs PyHessian, same run", "",
          "Each configuration runs on the autograd operator of the model (operator / `hessian()` set-up included) "
          "for every seed; the time is the median wall time of the cheapest configuration whose median error "
          "is ≤ 1 %.", ""]
    for t in tta:
        o, ph = t["ours"], t["pyhessian"]
        L.append(f"- **{t['arch']} {t['stage']}**: ours {_f(o and o['wall_s'], '{:.2f} s')} "
                 f"({o['method'] if o else 'not reached'}); PyHessian {_f(ph and ph['wall_s'], '{:.2f} s')} "
                 f"({ph['method'] if ph else 'not reached at the budgets tried'}).")
        L += ["", "| configuration | HVPs | median error | p90 error | median wall (s) |", "|---|---:|---:|---:|---:|"]
        for x in t["results"]:
            L.append(f"| {x['method']} | {x['budget']} | {x['median']:.2%} | {x['p90']:.2%} | {x['wall_s']:.3f} |")
        L.append("")
    L += ["## 5. Batched products (matmat, double backward, float32, digits models)", "",
          "| model | k | single product (ms / vector) | matmat (ms / vector) | ratio |", "|---|---:|---:|---:|---:|"]
    for b in r.get("batched") or []:
        L.append(f"| {b['model']} | {b['k']} | {b['single_ms']:.3f} | {b['batched_ms']:.3f} | {b['ratio']:.2f} |")
    L += ["", "## 6. Peak memory vs the memory model", ""]
    mem = r.get("memory")
    if mem:
        L += ["Each case in a fresh process (`benchmarks/hessian_memory.py`); estimator peak = peak RSS − RSS "
              "before the estimator, in units of n float32 numbers (the c of peak ≈ c·n).", "",
              "| case | code | n | HVPs | deflation steps | kept pairs | probe depth | estimator peak (n floats) | "
              "estimator peak (GiB) | process peak (GiB) | model |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for x in mem:
            if "error" in x:
                L.append(f"| {x['case']} | – | – | {x['budget']} | failed: {x['error'][-120:]!r} | | | | | | |")
                continue
            L.append(f"| {x['case']} | {x['code']} | {x['n']:,} | {x['budget']} | "
                     f"{_f(x.get('deflation_steps'), '{}')} | "
                     f"{_f(x.get('num_deflated'), '{}')} | {_f(x.get('probe_steps'), '{}')} | "
                     f"{x['estimator_peak_vectors']:.1f} | {x['estimator_peak_gib']:.2f} | "
                     f"{x['process_peak_gib']:.2f} | "
                     f"{memory_model(x)} |")
    else:
        L.append("not measured in this run (`python benchmarks/hessian_memory.py`).")
    L += ["", "## 7. Per-HVP wall time (same process, same model and batch)", "",
          "Timed: PyHessian `hessian_vector_product(gradsH, params, v)` on lists of tensors vs our `op @ v` on a flat "
          "vector; both replay a gradient graph retained at set-up; alternating blocks, median block.", "",
          "| model | PyHessian (ms) | ours, double backward (ms) | ours, forward-over-reverse (ms) | gradient (ms) | "
          "ratio ours/PyHessian |", "|---|---:|---:|---:|---:|---:|"]
    for s in r.get("speed") or []:
        ms = lambda k: _f(s.get(k) and s[k] * 1e3, "{:.2f}")  # noqa: E731
        L.append(f"| {s['model']} | {ms('pyhessian')} | {ms('ours_double_backward')} | "
                 f"{ms('ours_forward_over_reverse')} | "
                 f"{ms('gradient')} | {_f(s.get('ratio_ours_to_pyhessian'), '{:.2f}')} |")
    dist = r.get("distributed")
    L += ["", "## 8. Data-parallel products: 2 processes (gloo) vs 1 process", ""]
    if dist:
        L += [f"`python benchmarks/hessian_distributed.py`: tanh MLP (83 parameters, float64), 90 samples in 7 uneven "
              f"batches, shards of {dist['local_samples'][0]} and {dist['local_samples'][1]} samples; "
              f"wall {dist['wall_two_process_s']:.1f} s for the two processes (start-up included) vs "
              f"{dist['wall_one_process_s']:.2f} s in one.", "",
              "| quantity | one process | two processes (rank 0) | max relative difference | ranks bit-identical |",
              "|---|---:|---:|---:|---|"]
        for x in dist["rows"]:
            if x["quantity"] == "unseeded":  # seed=None: a fresh seed, drawn on rank 0 and broadcast
                x = dict(x, quantity="unseeded (seed=None: fresh draw, differs from the 1-process draw by design)")
            L.append(f"| {x['quantity']} | {_f(x['one_process'], '{:.10g}')} | "
                     f"{_f(x['two_process_rank0'], '{:.10g}')} | "
                     f"{x['max_rel_diff']:.1e} | {'yes' if x['ranks_identical'] else 'NO'} |")
    else:
        L.append("not measured (`python benchmarks/hessian_distributed.py`).")
    rs_all = r.get("resnet_entropy")
    if isinstance(rs_all, dict):
        rs_all = [rs_all]
    L += ["", "## 9. Entropy-gap estimates on CIFAR ResNet-18 (batch 32, float32, CPU)", "",
          ("Re-run in this report." if r.get("resnet_entropy_rerun") else
           "**Not re-run in this report** (CPU time): the rows below are from the previous engine (before the memory "
           "changes), kept as the *before* figures; section 6 has the current engine's ResNet-18 low-memory run."),
          "Rerun: `OPENBLAS_NUM_THREADS=1 python benchmarks/hessian_report.py --resnet-only`.", ""]
    for rs in rs_all or [None]:
        if rs and "error" not in rs:
            L.append(f"- n = {rs['n']:,} parameters; budget {rs['budget']} HVPs ({rs['hvp_count']} used); wall "
                     f"{rs['wall_s']:.0f} s ({rs['per_hvp_s']:.2f} s per HVP incl. set-up); peak RSS "
                     f"{rs['peak_rss_gib']:.2f} GiB; gap(abs) = {rs['value']:.4f}, interval [{rs['ci'][0]:.4f}, "
                     f"{rs['ci'][1]:.4f}].")
        else:
            L.append(f"- not run or failed: {rs}")
    return "\n".join(L) + "\n"


def memory_model(x) -> str:
    """The memory model's prediction (in n floats, excluding the c ≈ 4 work vectors)."""
    d, k, s = x.get("deflation_steps"), x.get("num_deflated"), x.get("probe_steps")
    case = x["case"]
    if case.endswith("slq") or "pyhessian" in case:
        return f"{x['budget']} (s basis vectors)"
    if d is None:
        d = round(x["budget"] / 3)
        return f"2d = {2 * d} (before: basis + all d Ritz vectors)"
    if case.endswith("low"):
        return f"min(d, 32) + k = {min(d, 32) + (k or 0)}"
    return f"max(d, s) + k = {max(d, s or 0) + (k or 0)}"


if __name__ == "__main__":
    main()
