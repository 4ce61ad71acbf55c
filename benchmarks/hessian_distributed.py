"""Data-parallel Hessian products: 2 gloo processes vs one process on the full data (CPU).

Writes ``reports/hessian/distributed.json`` (rendered by ``hessian_report.py --merge``)::

    python benchmarks/hessian_distributed.py

The problem and the estimators are those of the default-suite test
(``tests/numerics/hessian/distributed_worker.py``: a tanh MLP, 90 samples in 7
uneven batches, shards of 48 and 42 samples): for each quantity, the largest
relative difference between rank 0 and the one-process result, and whether the
two ranks agree bit for bit.
"""

from __future__ import annotations

import json
import socket
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.multiprocessing as mp

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "reports" / "hessian" / "distributed.json"


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from numerics.hessian import GGNOperator, HessianOperator
    from tests.numerics.hessian.distributed_worker import estimates, problem, run

    torch.set_num_threads(1)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        mp.spawn(run, args=(2, port, tmp), nprocs=2, join=True)
        wall2 = time.perf_counter() - t
        ranks = [torch.load(Path(tmp) / f"rank{r}.pt", weights_only=False) for r in range(2)]
    model, loss_fn, batches = problem()
    t = time.perf_counter()
    one = estimates(HessianOperator(model, loss_fn, batches, retain_graph=True),
                    GGNOperator(model, loss_fn, batches, retain_graph=True))
    wall1 = time.perf_counter() - t
    rows = []
    for key, ref in one.items():
        a = np.asarray(ranks[0][key], dtype=np.float64)
        b = np.asarray(ref, dtype=np.float64)
        scale = float(np.max(np.abs(b))) or 1.0
        rows.append(dict(quantity=key, one_process=float(b.ravel()[0]) if b.size else None,
                         two_process_rank0=float(a.ravel()[0]) if a.size else None,
                         max_rel_diff=float(np.max(np.abs(a - b)) / scale),
                         ranks_identical=bool(np.array_equal(np.asarray(ranks[0][key]), np.asarray(ranks[1][key])))))
        print(rows[-1], flush=True)
    OUT.write_text(json.dumps(dict(rows=rows, wall_two_process_s=wall2, wall_one_process_s=wall1,
                                   local_samples=[ranks[0]["local_samples"], ranks[1]["local_samples"]]), indent=2))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
