"""All statements, in the order of the paper (reference: ``python -m theorems docs`` → docs/statements.md)."""

from __future__ import annotations

import importlib

from theorems.statement import Statement

#: modules holding a ``STATEMENTS`` list, in the paper's order
MODULES = [
    "theorems.def_3_1",
    "theorems.thm_3_2",
    "theorems.thm_3_3",
    "theorems.thm_3_4",
    "theorems.lemma_3_5",
    "theorems.lemma_3_6",
    "theorems.thm_3_7",
    "theorems.thm_4_2",
    "theorems.thm_4_3",
    "theorems.cor_4_4",
    "theorems.prop_4_5",
    "theorems.sec_4_1",
    "theorems.seed_002",
    "theorems.seed_003",
    "theorems.seed_004",
]


def all_statements(missing_ok: bool = True) -> list[Statement]:
    out: list[Statement] = []
    for name in MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if missing_ok and exc.name == name:
                continue
            raise
        out.extend(mod.STATEMENTS)
    return out


def get(ids: list[str] | None = None) -> list[Statement]:
    stmts = all_statements()
    if not ids:
        return stmts
    known = {s.id: s for s in stmts}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise KeyError(f"unknown statement id(s) {unknown}; known: {sorted(known)}")
    return [known[i] for i in ids]


def find(stmt_id: str) -> Statement:
    """A statement by id; ``"<id>~<mutant name>"`` gives one of its mutants."""
    base, _, mutant = stmt_id.partition("~")
    for s in all_statements():
        if s.id == stmt_id:
            return s
        if s.id == base and mutant:
            for m in s.mutants():
                if m.id == stmt_id:
                    return m
            raise KeyError(f"{base} has no mutant {mutant!r}; it has {[m.id for m in s.mutants()]}")
    raise KeyError(f"unknown statement id {stmt_id!r}; run `python -m theorems list`")
