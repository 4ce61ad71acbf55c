"""The campaign database: per-statement search state, certified counterexamples, a lock.

Layout of ``--db DIR``::

    DIR/lock                    held (flock) by the one campaign using DIR; holds its pid
    DIR/counterexamples.jsonl   one JSON record per certified counterexample (append-only)
    DIR/state/<id>.json         cases, seconds, best margin and input, tolerance, per statement

Only the campaign's client process writes here (local workers and Dask workers send
their results back), so one lock per directory is enough. State files are written
to a unique temporary file in the same directory and renamed over the old one
(atomic on POSIX): an interrupt leaves the old or the new file, never half of one.
A torn last line of the JSONL file (a crash mid-append) or a corrupt state file is
skipped with a warning, so a later resume never crashes on it.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

from theorems.report import atomic_write_text  # noqa: F401  (re-exported: one atomic writer for every report)


class DatabaseLocked(RuntimeError):
    """Another live campaign holds the lock on the database directory."""


def _safe_name(stmt_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in stmt_id)


class CampaignDB:
    """A campaign database directory (see the module docstring)."""

    def __init__(self, root):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock_fh = None

    # -- lock -----------------------------------------------------------------
    def lock(self) -> None:
        """Take the directory's lock, or raise :class:`DatabaseLocked` naming the holder."""
        import fcntl

        fh = open(self.root / "lock", "a+")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            fh.close()
            raise DatabaseLocked(
                f"another campaign (pid {holder}) is using the database {str(self.root)!r}; "
                "wait for it to finish or pass a different --db") from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._lock_fh = fh

    def unlock(self) -> None:
        if self._lock_fh is not None:
            import fcntl

            fcntl.flock(self._lock_fh.fileno(), fcntl.LOCK_UN)
            self._lock_fh.close()
            self._lock_fh = None

    # -- counterexamples --------------------------------------------------------
    @property
    def counterexamples_path(self) -> Path:
        return self.root / "counterexamples.jsonl"

    def counterexamples(self) -> dict[str, dict]:
        """The first stored counterexample of each statement id (torn or corrupt lines skipped)."""
        out: dict[str, dict] = {}
        path = self.counterexamples_path
        if not path.exists():
            return out
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                out.setdefault(rec["id"], rec["counterexample"])
            except (json.JSONDecodeError, KeyError, TypeError):
                warnings.warn(f"{path}: line {i} is not a complete record (an interrupted write?); skipped",
                              stacklevel=2)
        return out

    def add_counterexample(self, stmt_id: str, cx: dict) -> None:
        path = self.counterexamples_path
        record = json.dumps({"id": stmt_id, "counterexample": cx}, default=str) + "\n"
        # a torn last line (crash mid-append) must not swallow this record: start on a fresh line
        lead = ""
        if path.exists() and path.stat().st_size:
            with open(path, "rb") as fh:
                fh.seek(-1, os.SEEK_END)
                lead = "" if fh.read(1) == b"\n" else "\n"
        with open(path, "a") as fh:
            fh.write(lead + record)
            fh.flush()
            os.fsync(fh.fileno())

    # -- per-statement state ------------------------------------------------------
    def state_path(self, stmt_id: str) -> Path:
        return self.root / "state" / f"{_safe_name(stmt_id)}.json"

    def load_state(self, stmt_id: str) -> dict:
        p = self.state_path(stmt_id)
        if not p.exists():
            return {}
        try:
            state = json.loads(p.read_text())
            if not isinstance(state, dict):
                raise ValueError("not a JSON object")
            return state
        except (ValueError, OSError) as exc:
            warnings.warn(f"{p}: corrupt state file ({exc}); this statement starts afresh", stacklevel=2)
            return {}

    def save_state(self, stmt_id: str, state: dict) -> None:
        atomic_write_text(self.state_path(stmt_id), json.dumps(state, default=str))
