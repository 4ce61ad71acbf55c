"""Per-HVP time vs PyHessian and one ResNet-18 entropy-gap estimate, on a CUDA device.

    PYTHONPATH=<dir with pyhessian> python benchmarks/hessian_cuda.py --out reports/hessian/cuda.json

Same model and batch for every method (CIFAR ResNet-18, 11,173,962 parameters, batch 32 of random
CIFAR-shaped images, float32, eval mode), timed side by side in one process with
``torch.cuda.synchronize()`` around each product.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import torch

from benchmarks.hessian_report import pyhessian_available, pyhessian_torch_eig_patch, resnet_batch
from numerics.hessian import HessianOperator, entropy_gap_estimate, hutchinson_trace, krylov_trace


def _timed(fn, reps):
    fn()
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - t) / reps


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--budget", type=int, default=300)
    a = ap.parse_args()
    dev = torch.device("cuda")
    model, loss_fn, (X, y) = resnet_batch()
    model = model.to(dev)
    X, y = X.to(dev), y.to(dev)
    out = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "python": platform.python_version(),
           "n_params": sum(p.numel() for p in model.parameters())}

    def grad_once():
        model.zero_grad(set_to_none=True)
        loss_fn(model(X), y).backward()

    out["gradient_s"] = _timed(grad_once, a.reps)
    model.zero_grad(set_to_none=True)
    if pyhessian_available():
        from pyhessian import hessian
        from pyhessian.utils import hessian_vector_product

        with pyhessian_torch_eig_patch():
            h = hessian(model, loss_fn, data=(X, y), cuda=True)
            v = [torch.randn_like(p) for p in h.params]
            out["pyhessian_hvp_s"] = _timed(lambda: hessian_vector_product(h.gradsH, h.params, v), a.reps)
        del h, v
        model.zero_grad(set_to_none=True)
        torch.cuda.empty_cache()
    for backend in ("double_backward", "forward_over_reverse"):
        op = HessianOperator(model, loss_fn, (X, y), backend=backend)
        v = torch.randn(op.shape[0], dtype=op.dtype, device=dev)
        out[f"ours_{backend}_hvp_s"] = _timed(lambda: op @ v, a.reps)
        del op, v
        torch.cuda.empty_cache()
    if "pyhessian_hvp_s" in out:
        out["ratio_ours_to_pyhessian"] = out["ours_double_backward_hvp_s"] / out["pyhessian_hvp_s"]
    torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    op = HessianOperator(model, loss_fn, (X, y))
    est = entropy_gap_estimate(op, a.budget, policy="abs", seed=0)
    torch.cuda.synchronize()
    out["entropy_gap"] = {"budget": a.budget, "hvp_count": est.hvp_count, "value": est.value,
                          "ci": [est.ci_low, est.ci_high], "wall_s": time.perf_counter() - t,
                          "peak_gpu_memory_gib": torch.cuda.max_memory_allocated() / 2**30}
    t = time.perf_counter()
    for name, fn in (("hutchinson", hutchinson_trace), ("krylov", krylov_trace)):
        t = time.perf_counter()
        e = fn(op, 100, seed=0)
        torch.cuda.synchronize()
        out[f"trace_{name}"] = {"value": e.value, "ci": [e.ci_low, e.ci_high], "hvp_count": e.hvp_count,
                                "wall_s": time.perf_counter() - t}
    print(json.dumps(out, indent=1))
    with open(a.out, "w") as fh:
        json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
