"""One grid cell: train a model with one optimizer and measure it at the checkpoints, resumably.

Recipe (per architecture x optimizer, from the preset): learning rate ``η``,
weight decay, linear warm-up over ``warmup_fraction`` of the steps, then a
cosine decay to ``min_lr_fraction · η`` at the last step (Loshchilov & Hutter
2017, SGDR without restarts), stepped once per optimizer step.

Optimizers: ``sgd`` (``torch.optim.SGD``, heavy-ball momentum, coupled L2
weight decay), ``adam`` (``torch.optim.Adam``, coupled L2), ``adamw``
(``torch.optim.AdamW``, decoupled), ``lion`` and ``tanh-lion``
(:mod:`gpu_experiments.optimizers`, decoupled weight decay ``θ ← θ − ηλθ``).

Determinism and resumption: the model is initialised from ``torch.manual_seed(seed)``;
the shuffling order of epoch ``e`` and the augmentation of step ``t`` are pure
functions of ``(seed, e)`` and ``(seed, t)`` (:mod:`gpu_experiments.data`), so a
run restarted from a saved state continues exactly as the uninterrupted run
would (bit for bit on the CPU; on CUDA up to the non-determinism torch cannot
remove).  The state (model, optimizer, scheduler, metrics so far, running
loss) is written atomically after every checkpoint's metrics and every
``training.save_every_steps`` steps, and on Ctrl-C; it is deleted once the run's
record is written unless ``training.keep_final_state`` is true.

Optional: ``training.eval_every_steps = k`` records a learning curve (test
accuracy and loss every ``k`` steps, with the training time so far, evaluation
time excluded) for time-to-target comparisons; ``hessian.enabled = false``
skips the Hessian metrics (accuracy and losses only, e.g. for learning-rate
tuning runs).

Interrupts: Ctrl-C (SIGINT) is never swallowed.  The Hessian estimators of
:mod:`numerics.hessian` stop at a ``KeyboardInterrupt`` and may return a partial
estimate; a checkpoint's metrics are therefore computed under
:class:`InterruptWatch`, and a Ctrl-C seen during them raises after all -- so a
partial measurement is neither recorded nor cached as the step-0 metrics that
every optimizer of an (arch, seed) reuses.  The state saved at Ctrl-C is the one
between two training steps (consistent), and the checkpoint whose metrics were
interrupted is measured again on resume.

``torchrun``: see :mod:`gpu_experiments.distributed`.  Under data parallelism all
ranks train the cell together (DDP); rank 0 writes the state and the record
(atomically).  The Hessian metrics use the data-parallel operators of
:mod:`numerics.hessian` (each rank multiplies by its share of the evaluation
batches, products all-reduced) when there are at least as many evaluation
batches as ranks; otherwise rank 0 computes them on the full evaluation set.
Rank 0's metrics are broadcast, so every rank holds the same record.
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
from collections.abc import Callable

import torch
from torch import nn

from .data import Dataset, augment_crop_flip, epoch_permutation, evaluation_indices
from .distributed import DistContext, resolve_device  # noqa: F401 -- resolve_device re-exported
from .metrics import evaluate, hessian_metrics
from .models import build_model
from .optimizers import NonFiniteGradientError
from .persistence import (  # noqa: F401 -- atomic_json, atomic_torch_save, sanitize: imported from here elsewhere
    atomic_json,
    atomic_torch_save,
    load_training_state,
    read_json,
    sanitize,
    save_training_state,
)
from .presets import base_optimizer, cell_config, check_optimizer, config_hash, split_recipe


class RunInterrupted(RuntimeError):
    """A run stopped before its last step (``stop_after_steps`` in tests, or an external stop)."""


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or inf."""


#: statuses of a finished cell (never recomputed); a diverged run is deterministic, so rerunning it is pointless
FINISHED = ("complete", "diverged")


# ----------------------------------------------------------------------------
# devices, determinism, optimizers, schedule
# ----------------------------------------------------------------------------


def set_determinism(seed: int, device: torch.device) -> None:
    """Seed torch and ask for deterministic kernels where torch has them."""
    torch.manual_seed(seed)
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        torch.use_deterministic_algorithms(True, warn_only=True)


def build_optimizer(name: str, params, recipe: dict) -> torch.optim.Optimizer:
    """The optimizer of a recipe (``lr``, ``weight_decay`` and the optimizer's own options).

    ``name`` is a grid label; the recipe's ``optimizer`` key, when present, names the base optimizer.
    """
    name = check_optimizer(base_optimizer(name, recipe))
    schedule, kwargs = split_recipe(recipe)
    lr = float(schedule["lr"])
    wd = float(schedule.get("weight_decay", 0.0))
    if "betas" in kwargs:
        kwargs["betas"] = tuple(kwargs["betas"])
    try:
        if name == "sgd":
            return torch.optim.SGD(params, lr=lr, weight_decay=wd, **kwargs)
        if name == "adam":
            return torch.optim.Adam(params, lr=lr, weight_decay=wd, **kwargs)
        if name == "adamw":
            return torch.optim.AdamW(params, lr=lr, weight_decay=wd, **kwargs)
        from .optimizers import Lion, TanhLion  # imported here: only Lion runs need it

        if name == "lion":
            return Lion(params, lr=lr, weight_decay=wd, **kwargs)
        return TanhLion(params, lr=lr, weight_decay=wd, **kwargs)
    except TypeError as exc:
        raise ValueError(f"bad option for optimizer {name!r} in its recipe: {exc}") from exc


def lr_factor(step: int, total_steps: int, warmup_fraction: float = 0.0, min_lr_fraction: float = 0.0) -> float:
    """Multiplier of the base learning rate at ``step`` (0-based): linear warm-up, then cosine.

    ``w = round(warmup_fraction · total)`` warm-up steps take the factor from
    ``1/w`` to 1; the remaining steps follow
    ``f + (1 − f)(1 + cos(π t/(total − w)))/2`` with ``f = min_lr_fraction``.
    """
    w = int(round(warmup_fraction * total_steps))
    if step < w:
        return (step + 1) / w
    span = max(total_steps - w, 1)
    t = min(step - w, span)
    return min_lr_fraction + (1 - min_lr_fraction) * 0.5 * (1 + math.cos(math.pi * t / span))


def checkpoint_steps(total_steps: int, percents) -> list[int]:
    """Step of each checkpoint percentage (rounded; a positive percentage is at least step 1)."""
    steps = []
    for p in percents:
        s = int(round(p / 100 * total_steps))
        if p > 0:
            s = max(s, 1)
        steps.append(min(s, total_steps))
    return steps


# ----------------------------------------------------------------------------
# persistence
# ----------------------------------------------------------------------------


class InterruptWatch:
    """Counts SIGINTs while active, so that a Ctrl-C swallowed by a callee is raised afterwards.

    In the main thread it installs a handler that counts the signal and raises
    ``KeyboardInterrupt`` (as Python's default one does); elsewhere it only uses the
    count of an enclosing watch.  :meth:`check` raises ``KeyboardInterrupt`` if a
    signal arrived since the watch started.
    """

    _count = 0

    def __init__(self) -> None:
        self._previous = None
        self._start = 0

    @classmethod
    def _handler(cls, signum, frame):
        cls._count += 1
        raise KeyboardInterrupt

    def __enter__(self) -> InterruptWatch:
        self._start = InterruptWatch._count
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, InterruptWatch._handler)
        return self

    def check(self) -> None:
        if InterruptWatch._count != self._start:
            raise KeyboardInterrupt("interrupted during the checkpoint metrics (the partial result is discarded)")

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


# ----------------------------------------------------------------------------
# the run
# ----------------------------------------------------------------------------


def cell_name(arch: str, optimizer: str, seed: int) -> str:
    return f"{arch}__{optimizer}__seed{seed}"


def init_cache_key(cfg: dict, arch: str, seed: int) -> str:
    """Hash of everything that determines the step-0 metrics (not the optimizer)."""
    return config_hash({"data": cfg["data"], "hessian": cfg["hessian"], "model": cfg["models"][arch],
                        "arch": arch, "seed": seed, "test": "v2"})  # v2: R_med and SAM


def cell_hash(cfg: dict, arch: str, optimizer: str, seed: int, data: Dataset) -> str:
    """Hash of everything that determines a cell's result (the record's ``config_hash``)."""
    return config_hash({**cell_config(cfg, arch, optimizer), "seed": seed, "dataset": data.fingerprint()})


def finished_record(record_path: str, chash: str) -> dict | None:
    """The finished record at ``record_path``, ``None`` if there is none (or it is unfinished).

    Raises:
        ValueError: the file is malformed, or it holds a finished run of another
            configuration (the message names the directory and what to do).
    """
    if not os.path.isfile(record_path):
        return None
    record = read_json(record_path, "run record", "delete it to recompute the cell")
    if not isinstance(record, dict):
        raise ValueError(f"malformed run record {record_path}: not a JSON object; delete it to recompute the cell")
    if record.get("status") not in FINISHED:
        return None
    if record.get("config_hash") != chash:
        run_dir = os.path.dirname(record_path)
        raise ValueError(
            f"{run_dir} holds a finished run of a different configuration (hash {record.get('config_hash')} "
            f"vs {chash}); use another --out/--name or delete that directory"
        )
    return record


def _slice_rows(x: torch.Tensor, dist: DistContext) -> torch.Tensor:
    """This rank's share of a global batch (rows ``rank, rank + world, ...``)."""
    return x[dist.rank :: dist.world_size] if dist.data_parallel else x


def run_cell(
    cfg: dict,
    arch: str,
    optimizer: str,
    seed: int,
    data: Dataset,
    device: torch.device,
    out_dir: str,
    *,
    on_progress: Callable[[dict], None] | None = None,
    stop_after_steps: int | None = None,
    dist: DistContext | None = None,
) -> dict:
    """Train one cell of the grid with checkpoints; resume from its saved state; return its record.

    Args:
        cfg: the loaded preset.
        arch, optimizer, seed: the cell.
        data: the data set (CPU tensors).
        device: training and Hessian device.
        out_dir: the preset's results directory (``runs/<cell>/`` and ``cache/`` live there).
        on_progress: called with ``{"step", "total", "phase", "loss"}`` as the run advances.
        stop_after_steps: stop (raise :class:`RunInterrupted`) after this many training steps of
            this call, *without* saving -- the test stand-in for a killed process.
        dist: the ``torchrun`` context (:func:`gpu_experiments.distributed.init_from_env`); under
            data parallelism every rank must call this with the same cell.

    Returns:
        The record (also in ``runs/<cell>/record.json``): configuration, metrics at every
        checkpoint, timings and status.
    """
    dist = dist or DistContext()
    writer = dist.is_writer
    chash = cell_hash(cfg, arch, optimizer, seed, data)
    run_dir = os.path.join(out_dir, "runs", cell_name(arch, optimizer, seed))
    if writer:
        os.makedirs(run_dir, exist_ok=True)
    record_path = os.path.join(run_dir, "record.json")
    state_path = os.path.join(run_dir, "state.pt")
    report = on_progress or (lambda info: None)

    record = finished_record(record_path, chash)
    if record is not None:
        report({"step": record["total_steps"], "total": record["total_steps"], "phase": "done (cached)"})
        return record

    tr = cfg["training"]
    hcfg = dict(cfg["hessian"])
    hcfg["exact_blocks"] = list(hcfg.get("exact_blocks_by_arch", {}).get(arch, hcfg.get("exact_blocks", [])))
    batch_size = tr["batch_size"]
    if dist.data_parallel and batch_size % dist.world_size:
        raise ValueError(f"batch_size {batch_size} is not divisible by the {dist.world_size} data-parallel ranks")
    n_train = data.x_train.shape[0]
    steps_per_epoch = n_train // batch_size
    if steps_per_epoch < 1:
        raise ValueError(f"batch_size {batch_size} exceeds the {n_train} training images")
    total = tr["epochs"] * steps_per_epoch
    ckpt_steps = checkpoint_steps(total, tr.get("checkpoints", (0, 1, 25, 50, 75, 100)))
    percents = list(tr.get("checkpoints", (0, 1, 25, 50, 75, 100)))

    set_determinism(seed, device)
    model = build_model(arch, in_channels=data.in_channels, image_size=data.image_size,
                        num_classes=data.num_classes, **cfg["models"][arch]).to(device)
    recipe = cfg["recipes"][arch][optimizer]
    schedule, _ = split_recipe(recipe)
    opt = build_optimizer(optimizer, model.parameters(), recipe)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: lr_factor(s, total, schedule.get("warmup_fraction", 0.0), schedule.get("min_lr_fraction", 0.0))
    )

    eval_idx = evaluation_indices(n_train, cfg["data"]["eval_size"])
    ebs = cfg["data"]["eval_batch_size"]
    eval_batches = [
        (data.x_train[eval_idx[i : i + ebs]].to(device), data.y_train[eval_idx[i : i + ebs]].to(device))
        for i in range(0, eval_idx.numel(), ebs)
    ]
    train_eval_limit = tr.get("train_eval_size", n_train)

    state = {"step": 0, "metrics": [], "running_loss_sum": 0.0, "running_loss_count": 0, "train_seconds": 0.0,
             "hessian_seconds": 0.0}
    resumed_from = None
    dist.barrier()  # the writer's last state is on disk before anyone reads it
    if os.path.isfile(state_path):
        saved = load_training_state(state_path, map_location=device)
        if saved.get("config_hash") == chash:
            model.load_state_dict(saved["model"])
            opt.load_state_dict(saved["optimizer"])
            sched.load_state_dict(saved["scheduler"])
            state = saved["state"]
            resumed_from = state["step"]

    def save_state():
        if writer:
            save_training_state(state_path, config_hash=chash, model=model.state_dict(),
                                optimizer=opt.state_dict(), scheduler=sched.state_dict(), state=state)

    cache_dir = os.path.join(out_dir, "cache")
    if writer:
        os.makedirs(cache_dir, exist_ok=True)
    cache_path = os.path.join(cache_dir, f"init__{arch}__seed{seed}__{init_cache_key(cfg, arch, seed)}.json")

    # data-parallel Hessian products need one evaluation batch per rank at least (batches are sharded whole,
    # so that batch-norm statistics in mode "train" are those of the single-process run)
    hessian_parallel = dist.data_parallel and len(eval_batches) >= dist.world_size

    def compute_metrics(step: int, index: int) -> dict:
        t0 = time.perf_counter()
        if step == 0 and os.path.isfile(cache_path):
            m = read_json(cache_path, "step-0 metrics cache", "delete it to recompute")
            m["from_cache"] = True
            m["lr"] = opt.param_groups[0]["lr"]  # the cached record was written by another optimizer
            m["seconds"] = 0.0
            return m
        report({"step": step, "total": total, "phase": f"metrics @{percents[index]}%"})
        with InterruptWatch() as watch:
            test_loss, test_acc = evaluate(model, data.x_test, data.y_test, ebs, device)
            train_loss, train_acc = evaluate(model, data.x_train[:train_eval_limit], data.y_train[:train_eval_limit],
                                             ebs, device)
            running = (state["running_loss_sum"] / state["running_loss_count"]) if state["running_loss_count"] else None
            h = (hessian_metrics(model, eval_batches, hcfg, seed=10_007 * seed + index, device=device, optimizer=opt,
                                 distributed=hessian_parallel)
                 if hcfg.get("enabled", True) else None)
            watch.check()  # a Ctrl-C that an estimator turned into a partial result
        if h is not None and dist.data_parallel:
            h["parallel"] = {"world_size": dist.world_size, "hessian": (
                "data-parallel products (evaluation batches sharded over the ranks)" if hessian_parallel
                else "rank 0 on the full evaluation set (fewer evaluation batches than ranks)")}
        m = {"step": step, "percent": percents[index], "test_accuracy": test_acc, "test_loss": test_loss,
             "train_loss": train_loss, "train_accuracy": train_acc, "train_loss_running": running,
             "lr": opt.param_groups[0]["lr"], "hessian": h, "seconds": time.perf_counter() - t0}
        m = sanitize(m)  # what the record will hold (and what a resumed run reads back)
        if step == 0 and writer:
            atomic_json(cache_path, m)  # only complete measurements reach the cache
        return m

    def measure(step: int, index: int) -> dict:
        if not dist.data_parallel:
            return compute_metrics(step, index)
        if hessian_parallel or (step == 0 and os.path.isfile(cache_path)):
            m = compute_metrics(step, index)  # every rank takes part (and gets the same numbers)
        else:
            m = compute_metrics(step, index) if dist.rank == 0 else None
        return dist.broadcast(m)  # rank 0's record on every rank (timings differ between ranks)

    def record_checkpoints(step: int) -> None:
        """Measure once at ``step`` and record every checkpoint percentage that falls on it.

        Short runs map several percentages to one step (e.g. 1 % and 25 % of 4 steps are both
        step 1): each keeps its own entry (``same_as_percent`` names the measured one), so no
        checkpoint disappears from the tables.
        """
        done = {m["percent"] for m in state["metrics"]}
        idxs = [i for i, s in enumerate(ckpt_steps) if s == step and percents[i] not in done]
        if not idxs:
            return
        m = measure(step, idxs[0])
        state["hessian_seconds"] += m["seconds"]
        state["metrics"].append(m)
        for i in idxs[1:]:
            state["metrics"].append({**m, "percent": percents[i], "seconds": 0.0,
                                     "same_as_percent": percents[idxs[0]]})
        state["running_loss_sum"], state["running_loss_count"] = 0.0, 0
        save_state()

    # checkpoint 0 (and any checkpoint at the resumed step that is missing)
    record_checkpoints(state["step"])

    train_model = model
    if dist.data_parallel:
        from torch.nn.parallel import DistributedDataParallel

        # gradients are averaged over ranks; batch norm keeps per-rank batch statistics
        train_model = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    model.train()
    use_amp = tr.get("amp", "none") == "bf16" and device.type == "cuda"
    augment = bool(tr.get("augment", False))
    save_every = int(tr.get("save_every_steps", 0))
    eval_every = int(tr.get("eval_every_steps", 0))
    state.setdefault("curve", [])
    x_all, y_all = data.x_train, data.y_train
    on_device = device.type == "cuda" and tr.get("data_on_device", True)
    if on_device:
        x_all, y_all = x_all.to(device), y_all.to(device)
    perm_epoch, perm = -1, None
    steps_this_call = 0
    t_train = time.perf_counter()
    try:
        while state["step"] < total:
            step = state["step"]
            epoch, pos = divmod(step, steps_per_epoch)
            if epoch != perm_epoch:
                perm, perm_epoch = epoch_permutation(n_train, seed, epoch), epoch
                if on_device:
                    perm = perm.to(device)
            idx = perm[pos * batch_size : (pos + 1) * batch_size]
            xb, yb = x_all[idx].to(device, non_blocking=True), y_all[idx].to(device, non_blocking=True)
            if augment:
                xb = augment_crop_flip(xb, seed, step)  # on the global batch: the same images as one process
            xb, yb = _slice_rows(xb, dist), _slice_rows(yb, dist)
            opt.zero_grad(set_to_none=True)
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=use_amp):
                out = train_model(xb)
            loss = nn.functional.cross_entropy(out.float(), yb)
            loss.backward()
            try:
                opt.step()
            except NonFiniteGradientError as exc:  # Lion/tanh-Lion refuse a NaN/inf gradient before stepping
                raise TrainingDiverged(f"{arch}/{optimizer}/seed {seed}: {exc}") from None
            sched.step()
            lval = float(dist.mean(loss.detach()))  # the global batch's mean loss
            if not math.isfinite(lval):
                raise TrainingDiverged(f"{arch}/{optimizer}/seed {seed}: training loss is {lval} at step {step + 1}")
            state["running_loss_sum"] += lval
            state["running_loss_count"] += 1
            state["step"] = step + 1
            steps_this_call += 1
            if state["step"] % 10 == 0 or state["step"] == total:
                report({"step": state["step"], "total": total, "phase": "train", "loss": lval})
            if eval_every and (state["step"] % eval_every == 0 or state["step"] == total):
                # learning curve for time-to-target; its own time is excluded from the training time
                t_eval = time.perf_counter()
                elapsed = state["train_seconds"] + (t_eval - t_train)
                test_loss, test_acc = evaluate(model, data.x_test, data.y_test, ebs, device)
                state["curve"].append({"step": state["step"], "train_seconds": elapsed, "test_accuracy": test_acc,
                                       "test_loss": test_loss})
                t_train += time.perf_counter() - t_eval
            if state["step"] in ckpt_steps:
                state["train_seconds"] += time.perf_counter() - t_train
                record_checkpoints(state["step"])
                model.train()
                t_train = time.perf_counter()
            elif save_every and state["step"] % save_every == 0:
                state["train_seconds"] += time.perf_counter() - t_train
                t_train = time.perf_counter()
                save_state()
            if stop_after_steps is not None and steps_this_call >= stop_after_steps and state["step"] < total:
                raise RunInterrupted(f"stopped after {steps_this_call} steps (step {state['step']} of {total})")
    except KeyboardInterrupt:
        state["train_seconds"] += time.perf_counter() - t_train
        save_state()  # Ctrl-C: keep the progress (the state is consistent between steps)
        raise
    except TrainingDiverged as exc:
        status, error = "diverged", str(exc)
    else:
        status, error = "complete", None

    record = {
        "status": status,
        "error": error,
        "config_hash": chash,
        "preset": cfg["name"],
        "arch": arch,
        "optimizer": optimizer,
        "seed": seed,
        "device": str(device),
        "world_size": dist.world_size if dist.data_parallel else 1,
        "dataset": data.name,
        "dataset_description": data.description,
        "synthetic_data": data.synthetic,
        "num_test": int(data.x_test.shape[0]),
        "num_parameters": sum(p.numel() for p in model.parameters()),
        "num_parameter_tensors": sum(1 for _ in model.parameters()),
        "total_steps": total,
        "steps_per_epoch": steps_per_epoch,
        "checkpoint_steps": ckpt_steps,
        "checkpoint_percents": percents,
        "recipe": recipe,
        "model_options": cfg["models"][arch],
        "resumed_from_step": resumed_from,
        "train_seconds": state["train_seconds"],
        "hessian_seconds": state["hessian_seconds"],
        "metrics": state["metrics"],
        "curve": state["curve"],
        "torch": torch.__version__,
    }
    if writer:
        atomic_json(record_path, record)
        if not tr.get("keep_final_state", False) and os.path.isfile(state_path):
            os.remove(state_path)  # the record is the result; weights of finished runs are not kept by default
    dist.barrier()
    report({"step": total, "total": total, "phase": "done"})
    return sanitize(record)
