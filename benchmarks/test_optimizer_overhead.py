"""Per-step time of tanh-Lion (each mode) vs Lion vs lion-pytorch, side by side.

The model is an MLP of ten 320×320 linear layers (1,027,200 parameters in 20
tensors); gradients are fixed random tensors, so only ``optimizer.step()`` is
timed (on CUDA with a synchronisation inside the timed call). Every optimizer
runs on the same device in the same session, and the median step times are
printed as ratios to our Lion and to ``lion_pytorch.Lion`` when the module
finishes. Not part of the default test run; run it explicitly:

    python -m pytest benchmarks/test_optimizer_overhead.py --benchmark-enable -s

(``-s`` shows the ratio table; add ``--benchmark-json F`` to keep the numbers).
CPU timings use one intra-op thread: the step is memory-bound, and a shared
machine's load otherwise dominates the timing.
"""

from __future__ import annotations

import pytest
import torch

from gpu_experiments.optimizers import Lion, TanhLion

lion_pytorch = pytest.importorskip("lion_pytorch")
from lion_pytorch.foreach import Lion as LionPytorchForeach  # noqa: E402

LR, WD = 1e-4, 0.1
OPTIMIZERS = {
    "lion-pytorch": lambda ps: lion_pytorch.Lion(ps, lr=LR, weight_decay=WD),
    "lion-pytorch-foreach": lambda ps: LionPytorchForeach(ps, lr=LR, weight_decay=WD),
    "lion": lambda ps: Lion(ps, lr=LR, weight_decay=WD),
    "lion-unchecked": lambda ps: Lion(ps, lr=LR, weight_decay=WD, check_finite=False),
    "tanh-fixed": lambda ps: TanhLion(ps, lr=LR, weight_decay=WD, mode="fixed"),
    "tanh-snr": lambda ps: TanhLion(ps, lr=LR, weight_decay=WD, mode="snr"),
    "tanh-optax-smooth": lambda ps: TanhLion(ps, lr=LR, weight_decay=WD, mode="optax-smooth"),
}
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _params(device: str) -> list[torch.Tensor]:
    torch.manual_seed(0)
    model = torch.nn.Sequential(*[torch.nn.Linear(320, 320) for _ in range(10)]).to(device)
    params = list(model.parameters())
    assert sum(p.numel() for p in params) == 1_027_200
    for p in params:
        p.grad = torch.randn_like(p) * 1e-3
    return params


@pytest.fixture(scope="module")
def medians():
    results: dict[tuple[str, str], tuple[float, float]] = {}  # (median, min)
    yield results
    if not results:
        return
    lines = ["", "optimizer.step() time; ratios of medians (same device, same session)", ""]
    lines.append("| device | optimizer | median step | min step | vs our Lion | vs lion-pytorch |")
    lines.append("|---|---|---|---|---|---|")
    for device in DEVICES:
        base = results.get((device, "lion"), (None,))[0]
        ref = results.get((device, "lion-pytorch"), (None,))[0]
        for name in OPTIMIZERS:
            if (device, name) not in results:
                continue
            t, t_min = results[(device, name)]
            r1 = f"{t / base:.2f}" if base else "-"
            r2 = f"{t / ref:.2f}" if ref else "-"
            lines.append(f"| {device} | {name} | {t * 1e3:.3f} ms | {t_min * 1e3:.3f} ms | {r1} | {r2} |")
    print("\n".join(lines))


@pytest.fixture
def device_threads(request):
    n = torch.get_num_threads()
    if request.node.callspec.params["device"] == "cpu":
        torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_step_time(benchmark, medians, device_threads, device, name):
    params = _params(device)
    opt = OPTIMIZERS[name](params)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def step():
        opt.step()
        sync()

    for _ in range(5):  # state allocation and kernel warm-up
        step()
    benchmark.group = f"optimizer step, 1.03M params, {device}"
    benchmark.extra_info.update(device=device, optimizer=name, params=1_027_200)
    benchmark.pedantic(step, rounds=100 if device == "cpu" else 1000, iterations=1, warmup_rounds=5)
    if benchmark.stats is not None:
        medians[(device, name)] = (benchmark.stats.stats.median, benchmark.stats.stats.min)
    assert all(torch.isfinite(p).all() for p in params)
