"""Where slices run: in the client process, in local worker processes, or on a Dask cluster.

All three offer ``submit(spec, *args) -> future`` and ``wait(futures, timeout) -> done``;
the client (the :class:`~theorems.campaign.scheduling.Campaign`) is the only process
that writes the campaign database, whichever executor runs the slices.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import signal
import threading
import time

from theorems.campaign.loading import Spec
from theorems.campaign.search import run_slice

#: most local worker processes per CPU core (more only adds contention)
MAX_WORKERS_PER_CPU = 4


def max_workers() -> int:
    return MAX_WORKERS_PER_CPU * (os.cpu_count() or 1)


class InlineExecutor:
    """Runs each slice at once in the calling process (one worker, no parallelism)."""

    name = "inline"
    workers = 1

    def submit(self, spec: Spec, *args):
        f = cf.Future()
        try:
            f.set_result(run_slice(spec, *args))
        except BaseException as exc:  # noqa: BLE001
            f.set_exception(exc)
        return f

    def wait(self, futures, timeout):
        return {f for f in futures if f.done()}

    def shutdown(self):
        pass


# -- local processes ----------------------------------------------------------------

_FORK_SPECS: dict[str, Spec] = {}  # inherited by forked workers: statements never need pickling


def _watch_parent(ppid: int):
    while True:
        time.sleep(0.5)
        if os.getppid() != ppid:
            os._exit(1)  # the campaign died: no orphaned workers


def _local_init():
    # the client handles Ctrl-C / SIGTERM and stops submitting; in-flight slices end at their deadline
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the client's handler, inherited through fork
    try:  # Linux: the kernel signals us when the parent dies
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - not Linux: the watchdog thread below still works
        pass
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()


def _local_slice(ref: str, *args):
    return run_slice(_FORK_SPECS[ref], *args)


class LocalExecutor:
    """``workers`` forked processes (``concurrent.futures``), statements inherited through fork."""

    name = "local"

    def __init__(self, workers: int, specs: list[Spec]):
        self.workers = workers
        for s in specs:
            _FORK_SPECS[s.ref] = s
        self.pool = cf.ProcessPoolExecutor(workers, mp_context=mp.get_context("fork"), initializer=_local_init)

    def submit(self, spec: Spec, *args):
        return self.pool.submit(_local_slice, spec.ref, *args)

    def wait(self, futures, timeout):
        done, _ = cf.wait(futures, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return done

    def pids(self) -> list[int]:
        return [p.pid for p in getattr(self.pool, "_processes", {}).values()]

    def shutdown(self):
        procs = list(getattr(self.pool, "_processes", {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for p in procs:  # slices already past their deadline: do not wait for stragglers
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(5)


# -- Dask ---------------------------------------------------------------------------

def _warm(specs):
    import hypothesis  # noqa: F401
    import scipy.optimize  # noqa: F401

    from theorems.campaign.search import _worker_for

    for spec in specs:
        try:
            _worker_for(spec)
        except Exception:  # noqa: BLE001 - the slice reports the error in the statement's row
            pass
    return True


class DaskExecutor:
    """Slices as Dask tasks on a ``distributed`` cluster: ``local:N`` (a LocalCluster) or a scheduler address.

    Statements travel as specs: paper ids by name, user files with their source text,
    in-process statement objects by cloudpickle. Workers only compute; the client
    writes the database.
    """

    name = "dask"

    def __init__(self, cluster: str):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise SystemExit("--cluster needs Dask distributed: pip install 'dask[distributed]' "
                             "(or this package's [cluster] extra)") from None
        self.cluster = None
        if cluster.startswith("local:"):
            try:
                n = int(cluster.split(":", 1)[1])
            except ValueError:
                raise ValueError(f"--cluster local:N needs an integer N, got {cluster!r}") from None
            if not 1 <= n <= max_workers():
                raise ValueError(f"--cluster local:N needs 1 <= N <= {max_workers()}, got {n}")
            self.cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                        dashboard_address=None, silence_logs=40)
            self.client = Client(self.cluster)
        else:
            address = cluster if "://" in cluster else f"tcp://{cluster}"
            try:
                self.client = Client(address, timeout="10s")
            except (OSError, TimeoutError) as exc:
                raise ValueError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        self.workers = max(1, sum(w.get("nthreads", 1) for w in self.client.scheduler_info()["workers"].values()))
        self.address = self.client.scheduler.address

    def warm(self, specs: list[Spec]) -> None:
        """Import the search stack and load every statement on every worker (before the budget starts)."""
        self.client.run(_warm, specs)

    def submit(self, spec: Spec, *args):
        return self.client.submit(run_slice, spec, *args, pure=False)

    def wait(self, futures, timeout):
        from distributed import wait

        try:
            done, _ = wait(list(futures), timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return set()
        return set(done)

    def shutdown(self):
        try:
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()
