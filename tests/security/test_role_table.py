"""SECURITY.md's role table is what the code decides: regenerated from the policies, it must not differ."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("role_table", REPO / "scripts" / "role_table.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["role_table"] = module  # its dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


def test_security_md_role_table_matches_the_code() -> None:
    script = _script()
    assert script.current() == script.render(), "run `python scripts/role_table.py --write` and review the diff"


def test_the_table_says_what_the_review_demanded() -> None:
    """A few cells the issue fixed, read from the generated table so a policy regression shows here by name."""
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
            for line in _script().render().splitlines() if line.startswith("| ") and not line.startswith("| act ")}
    roles = ["requester", "agent", "engineer", "manager", "auditor", "admin"]

    def cell(row: str, role: str) -> str:
        return rows[row][roles.index(role)]

    assert cell("close", "engineer") == "—" and cell("rate", "requester") == "own" and cell("rate", "agent") == "—"
    assert cell("override priority", "requester") == "—"
    assert cell("accept", "engineer") == "held" and cell("review", "engineer") == "—"
    assert cell("SLA monitor: change calendars, holiday years", "manager") == "—"
    assert all(cell(r, "auditor") in ("—", "yes") for r in ("edit", "work", "review"))
    assert cell("edit", "auditor") == "—"
