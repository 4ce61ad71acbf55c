"""Files of a results directory: atomic writes, safe reads, the training state, per-cell locks.

* :func:`atomic_json`, :func:`atomic_torch_save` -- write to a per-process
  temporary file, then ``os.replace`` (atomic on POSIX): a reader or a killed
  writer never leaves half a file behind.
* :func:`read_json` -- a malformed or truncated file is a ``ValueError`` that
  names the path and says what to do, not a bare ``JSONDecodeError``.
* :func:`save_training_state` / :func:`load_training_state` -- ``state.pt``
  holds only tensors and plain Python containers (the run's bookkeeping is
  stored as a JSON string), so it loads with ``torch.load(weights_only=True)``:
  a planted checkpoint cannot execute code (``weights_only=False`` unpickles
  arbitrary objects).  An unreadable file names its path.
* :class:`CellLock` -- an exclusive lock per grid cell (``fcntl.flock``), so that
  processes sharing one results directory (shards started by hand, or several
  ``torchrun`` jobs) never train the same cell twice; the kernel drops the lock
  of a dead process, so a killed run leaves no stale lock.
"""

from __future__ import annotations

import json
import math
import os
import socket
import time

import torch

STATE_FORMAT = 2  # 2: bookkeeping as JSON, loadable with weights_only=True


def sanitize(obj):
    """JSON-safe copy: ``inf`` -> ``"inf"``, ``-inf`` -> ``"-inf"``, NaN -> ``None``; numpy scalars -> floats."""
    if isinstance(obj, dict):
        return {str(k): sanitize(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [sanitize(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):
        try:
            obj = obj.item()
        except (ValueError, AttributeError):
            return obj
    if isinstance(obj, float):
        if math.isnan(obj):
            return None
        if math.isinf(obj):
            return "inf" if obj > 0 else "-inf"
    return obj


def atomic_json(path: str, obj) -> None:
    """Write ``sanitize(obj)`` as JSON to ``path`` atomically."""
    tmp = f"{path}.{os.getpid()}.tmp"  # per process: concurrent runs on one directory write grid.json too
    try:
        with open(tmp, "w") as fh:
            json.dump(sanitize(obj), fh, indent=1)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def atomic_torch_save(path: str, obj) -> None:
    """``torch.save`` to ``path`` atomically."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def read_json(path: str, what: str = "file", remedy: str | None = None):
    """``json.load`` of ``path``; a malformed file raises ``ValueError`` naming it and the remedy."""
    try:
        with open(path) as fh:
            return json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        hint = remedy or "delete it to recompute it"
        raise ValueError(f"malformed {what} {path}: {exc}; {hint}") from None


def save_training_state(path: str, *, config_hash: str, model: dict, optimizer: dict, scheduler: dict,
                        state: dict) -> None:
    """Write a cell's resumable state (``weights_only``-loadable) atomically."""
    atomic_torch_save(path, {"format": STATE_FORMAT, "config_hash": config_hash, "model": model,
                             "optimizer": optimizer, "scheduler": scheduler,
                             "state_json": json.dumps(sanitize(state))})


def load_training_state(path: str, map_location=None) -> dict:
    """Read ``state.pt`` with ``weights_only=True``; the bookkeeping comes back as ``saved["state"]``.

    Raises:
        ValueError: the file is truncated, corrupt, of an older format or contains objects
            other than tensors and plain containers; the message names the path and says
            to delete it (the cell then restarts from step 0).
    """
    remedy = f"delete {path} to restart this cell from step 0 (or restore it from a backup)"
    try:
        saved = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # noqa: BLE001 -- UnpicklingError, EOFError, RuntimeError (zip), ...: all mean unreadable
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"unreadable training state {path} ({type(exc).__name__}: {first}); {remedy}") from None
    if not isinstance(saved, dict) or saved.get("format") != STATE_FORMAT or "state_json" not in saved:
        raise ValueError(f"training state {path} is not in the current format ({STATE_FORMAT}); {remedy}")
    try:
        saved["state"] = json.loads(saved.pop("state_json"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"training state {path} has malformed bookkeeping ({exc}); {remedy}") from None
    return saved


class CellBusy(RuntimeError):
    """Another live process holds the cell's lock."""


class CellLock:
    """Exclusive, non-blocking lock on one grid cell: ``fcntl.flock`` on ``path``.

    The kernel releases the lock when its owner exits, however it exits (Ctrl-C,
    SIGKILL, a crash), so there are no stale locks to clean up.  The lock file is
    never deleted: deleting it would let a second process lock a fresh inode while
    a third still holds the old one.  ``flock`` is local to one host (on NFS Linux
    maps it to POSIX byte-range locks, which NFSv4 servers honour).

    ``acquire()`` returns ``False`` when another process holds the lock.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def owned(self) -> bool:
        return self._fd is not None

    def acquire(self) -> bool:
        import fcntl

        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{socket.gethostname()} {os.getpid()} {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
        self._fd = fd
        return True

    def release(self) -> None:
        import fcntl

        if self._fd is None:
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> CellLock:
        if not self.acquire():
            raise CellBusy(f"{self.path} is held by another process")
        return self

    def __exit__(self, *exc) -> None:
        self.release()
