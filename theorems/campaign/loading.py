"""Resolving statements: paper ids, mutant ids ``id~name``, user files ``FILE.py:NAME``.

A campaign refers to each statement by a *ref* string and ships a :class:`Spec` to
the process that searches it. A spec can be rebuilt anywhere: a paper statement by
its id, a user statement from the file's source text (carried in the spec, so a
remote Dask worker does not need the file), an in-process statement object by
pickling it (cloudpickle, for Dask; fork inherits it locally).
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import types
from dataclasses import dataclass
from pathlib import Path

from theorems.statement import Statement


def _module_from_source(path: str, source: str):
    name = "user_statement_" + hashlib.sha1((path + "\0" + source).encode()).hexdigest()[:16]
    if name in sys.modules:
        return sys.modules[name]
    mod = types.ModuleType(name)
    mod.__file__ = path
    sys.modules[name] = mod  # dataclasses and pickling look the module up by name
    try:
        exec(compile(source, path, "exec"), mod.__dict__)
    except BaseException:
        del sys.modules[name]
        raise
    return mod


def _pick(mod, path: str, name: str) -> list[Statement]:
    if not hasattr(mod, name):
        def is_statements(v):
            return isinstance(v, Statement) or (
                isinstance(v, (list, tuple)) and v and all(isinstance(e, Statement) for e in v))

        found = sorted(k for k, v in vars(mod).items() if not k.startswith("_") and is_statements(v))
        listing = ", ".join(found) if found else "none"
        raise ValueError(f"{path} has no attribute {name!r}; statements (or lists of them) it defines: {listing}")
    obj = getattr(mod, name)
    objs = obj if isinstance(obj, (list, tuple)) else [obj]
    if not objs or not all(isinstance(o, Statement) for o in objs):
        raise ValueError(f"{path}:{name} is not a theorems.Statement (or a non-empty list of them)")
    return list(objs)


def _split_ref(ref: str) -> tuple[str, str]:
    path, sep, name = ref.rpartition(":")
    if not sep or not path or not name:
        raise ValueError(f"--statement expects FILE.py:NAME, got {ref!r}")
    return path, name


def load_user_statements(ref: str) -> list[Statement]:
    """``path/to/file.py:NAME``: NAME is a Statement or a list of them."""
    path, name = _split_ref(ref)
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"statement file {path!r} does not exist")
    spec = importlib.util.spec_from_file_location(
        "user_statement_" + hashlib.sha1(str(p.resolve()).encode()).hexdigest()[:16], p)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return _pick(mod, path, name)


@dataclass(frozen=True)
class Spec:
    """How to rebuild one statement in another process.

    ``kind`` is ``"registry"`` (``key`` = id), ``"file"`` (``key`` = ``FILE.py:NAME#i``,
    ``source`` = the file's text) or ``"object"`` (``obj`` = the statement itself).
    """

    ref: str
    kind: str
    key: str
    source: str | None = None
    obj: object = None

    def cache_key(self) -> str:
        if self.kind == "file":
            return "file:" + self.key + ":" + hashlib.sha1(self.source.encode()).hexdigest()
        if self.kind == "object":
            return f"object:{self.ref}"
        return "registry:" + self.key

    def load(self) -> Statement:
        if self.kind == "object":
            return self.obj
        if self.kind == "file":
            fileref, _, i = self.key.rpartition("#")
            path, name = _split_ref(fileref)
            return _pick(_module_from_source(path, self.source), path, name)[int(i)]
        from theorems import registry

        return registry.find(self.key)


def resolve(refs: list[str], user_refs: list[str]) -> list[tuple[str, Statement]]:
    """``(ref, statement)`` pairs; the default is every paper statement unless only user files were given."""
    from theorems import registry

    if refs:
        out = [(r, registry.find(r)) for r in refs]
    else:
        out = [] if user_refs else [(s.id, s) for s in registry.all_statements()]
    for u in user_refs:
        out += [(f"{u}#{i}", s) for i, s in enumerate(load_user_statements(u))]
    return out


def spec_for(ref: str, stmt: Statement | None = None) -> Spec:
    """The spec of a ref made by :func:`resolve` (or of an in-process statement object)."""
    if stmt is not None and not ("#" in ref or _is_registry(ref)):
        return Spec(ref=ref, kind="object", key=ref, obj=stmt)
    if "#" in ref:
        fileref = ref.rpartition("#")[0]
        path, _ = _split_ref(fileref)
        return Spec(ref=ref, kind="file", key=ref, source=Path(path).read_text())
    return Spec(ref=ref, kind="registry", key=ref)


def _is_registry(ref: str) -> bool:
    from theorems import registry

    try:
        registry.find(ref)
        return True
    except (KeyError, ValueError):
        return False


_CACHE: dict[str, Statement] = {}


def load_spec(spec: Spec) -> Statement:
    """A statement from its spec, cached per process (a worker loads each statement once)."""
    k = spec.cache_key()
    if k not in _CACHE:
        _CACHE[k] = spec.load()
    return _CACHE[k]
