"""Progress display and interrupt handling for long spectral computations.

``progress=`` arguments accept ``False`` (silent, the default), ``True`` (a
transient ``rich`` progress bar on stderr) or an existing
``rich.progress.Progress`` to add a task to.

Interrupts: the estimators in :mod:`numerics.hessian.trace` and
:mod:`numerics.hessian.lanczos` take ``on_interrupt=``:

* ``"partial"`` (default): a ``KeyboardInterrupt`` during the probe loop stops
  it; if enough probes finished to form an estimate (two, for a confidence
  interval), the estimate from those is returned with ``interrupted=True`` and a
  :class:`PartialResultWarning`; otherwise :class:`EstimationInterrupted` is raised.
* ``"raise"``: :class:`EstimationInterrupted` is raised at once.

:class:`EstimationInterrupted` subclasses ``KeyboardInterrupt``, so code that
lets Ctrl-C through keeps doing so; its message says how far the run got.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator

from .distributed import is_main_process

ON_INTERRUPT = ("partial", "raise")


class EstimationInterrupted(KeyboardInterrupt):
    """Ctrl-C during an estimate that could not (or was told not to) return a partial result."""


class PartialResultWarning(UserWarning):
    """An estimate was cut short by an interrupt and uses only the probes that finished."""


def check_on_interrupt(on_interrupt: str) -> None:
    if on_interrupt not in ON_INTERRUPT:
        raise ValueError(f"unknown on_interrupt {on_interrupt!r}; choose one of {ON_INTERRUPT}")


def warn_partial(what: str, done: int, planned: int) -> None:
    warnings.warn(
        f"{what} interrupted: returning the estimate from {done} of {planned} probes",
        PartialResultWarning,
        stacklevel=3,
    )


@contextlib.contextmanager
def progress_bar(total: int, description: str, progress=False) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(k)``; draws a ``rich`` bar when ``progress`` is truthy (rank 0 only under torch.distributed)."""
    if progress and not is_main_process():
        progress = False  # data-parallel runs: every rank computes the same thing, one bar suffices
    if not progress:
        yield lambda k=1: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    if isinstance(progress, Progress):
        task = progress.add_task(description, total=total)
        yield lambda k=1: progress.advance(task, k)
        return
    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True
    )
    with bar:
        task = bar.add_task(description, total=total)
        yield lambda k=1: bar.advance(task, k)
