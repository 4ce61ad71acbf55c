"""Results-directory files: atomic writes, corrupt files named with a remedy, weights-only state, cell locks."""

from __future__ import annotations

import json
import multiprocessing
import os

import pytest
import torch

from gpu_experiments.persistence import (
    CellBusy,
    CellLock,
    atomic_json,
    load_training_state,
    read_json,
    save_training_state,
)


def _state(tmp_path):
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    path = str(tmp_path / "state.pt")
    save_training_state(path, config_hash="abc", model=model.state_dict(), optimizer=opt.state_dict(),
                        scheduler=sched.state_dict(),
                        state={"step": 3, "metrics": [{"x": float("inf"), "y": float("nan"), "z": 1.5}]})
    return path, model


def test_state_round_trip_is_weights_only_loadable(tmp_path):
    path, model = _state(tmp_path)
    torch.load(path, weights_only=True)  # no exception: only tensors and plain containers inside
    saved = load_training_state(path)
    assert saved["config_hash"] == "abc" and saved["state"]["step"] == 3
    assert saved["state"]["metrics"] == [{"x": "inf", "y": None, "z": 1.5}]  # the record's JSON conventions
    for k, v in model.state_dict().items():
        assert torch.equal(saved["model"][k], v)


class _Payload:
    """An object whose unpickling would run code (what ``weights_only=False`` allows)."""

    def __reduce__(self):
        return (os.system, ("true",))


def test_planted_checkpoint_is_refused_not_executed(tmp_path):
    path = tmp_path / "state.pt"
    torch.save({"format": 2, "config_hash": "abc", "payload": _Payload()}, path)
    with pytest.raises(ValueError, match=rf"unreadable training state {path}.*delete"):
        load_training_state(str(path))


@pytest.mark.parametrize("content", [b"", b"garbage", b"PK\x03\x04truncated zip"])
def test_corrupt_state_names_the_path_and_the_remedy(tmp_path, content):
    path = tmp_path / "state.pt"
    path.write_bytes(content)
    with pytest.raises(ValueError) as info:
        load_training_state(str(path))
    msg = str(info.value)
    assert str(path) in msg and "restart this cell from step 0" in msg and "Traceback" not in msg


def test_truncated_state_is_refused(tmp_path):
    path, _ = _state(tmp_path)
    data = open(path, "rb").read()
    open(path, "wb").write(data[: len(data) // 2])
    with pytest.raises(ValueError, match="unreadable training state"):
        load_training_state(path)


def test_old_format_state_is_refused(tmp_path):
    path = tmp_path / "state.pt"
    torch.save({"config_hash": "abc", "model": {}, "state": {"step": 1}}, path)  # format 1: pickled dict state
    with pytest.raises(ValueError, match="not in the current format"):
        load_training_state(str(path))


def test_read_json_names_path(tmp_path):
    p = tmp_path / "record.json"
    p.write_text('{"status": "compl')
    with pytest.raises(ValueError, match=rf"malformed run record {p}.*delete it"):
        read_json(str(p), "run record", "delete it to recompute the cell")
    p.write_text(json.dumps({"a": 1}))
    assert read_json(str(p)) == {"a": 1}


def test_atomic_json_leaves_no_temporary_and_sanitises(tmp_path):
    p = tmp_path / "x.json"
    atomic_json(str(p), {"a": float("inf"), "b": float("nan")})
    assert json.loads(p.read_text()) == {"a": "inf", "b": None}
    assert os.listdir(tmp_path) == ["x.json"]
    with pytest.raises(TypeError):
        atomic_json(str(p), {"a": object()})
    assert os.listdir(tmp_path) == ["x.json"] and json.loads(p.read_text()) == {"a": "inf", "b": None}


def _try_lock(path, queue):
    queue.put(CellLock(path).acquire())


def test_cell_lock_excludes_other_processes_and_dies_with_its_owner(tmp_path):
    path = str(tmp_path / "cell.lock")
    ctx = multiprocessing.get_context("fork")
    lock = CellLock(path)
    assert lock.acquire()
    q = ctx.Queue()
    p = ctx.Process(target=_try_lock, args=(path, q))
    p.start()
    p.join(20)
    assert q.get(timeout=5) is False  # another process cannot take it
    with pytest.raises(CellBusy):
        with CellLock(path):
            pass
    lock.release()
    p = ctx.Process(target=_try_lock, args=(path, q))  # this child takes the lock and exits without releasing
    p.start()
    p.join(20)
    assert q.get(timeout=5) is True
    assert CellLock(path).acquire()  # the kernel dropped the dead owner's lock: nothing stale remains


def test_corrupt_record_in_results_dir_names_path(tmp_path):
    from gpu_experiments.training import finished_record

    p = tmp_path / "runs" / "mlp__sgd__seed0" / "record.json"
    p.parent.mkdir(parents=True)
    p.write_text("{not json")
    with pytest.raises(ValueError, match=rf"malformed run record {p}.*delete it to recompute"):
        finished_record(str(p), "abc")
    p.write_text(json.dumps({"status": "complete", "config_hash": "zzz"}))
    with pytest.raises(ValueError, match="different configuration"):
        finished_record(str(p), "abc")
    assert finished_record(str(p), "zzz")["status"] == "complete"
    p.write_text(json.dumps({"status": "running"}))
    assert finished_record(str(p), "abc") is None
