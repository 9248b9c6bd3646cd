"""The stack pool's ordering: tests that share stacks run grouped by kind, so each kind of stack starts once, and the
stack is stopped after its directory's last test; every other test keeps its place."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from opsdesk_devstack import pytest_plugin


@dataclass
class Marker:
    kwargs: dict[str, Any]


@dataclass
class Item:
    nodeid: str
    path: Path
    fixturenames: tuple[str, ...] = ("stack", "stack_pool")
    env: dict[str, str] | None = None
    stash: dict[Any, Any] = field(default_factory=dict)

    def get_closest_marker(self, name: str) -> Marker | None:
        return Marker(self.env) if name == "stack_env" and self.env is not None else None


class Config:
    def __init__(self) -> None:
        self.stash = pytest.Stash()


def test_tests_sharing_stacks_are_grouped_by_directory_and_env_and_others_keep_their_place() -> None:
    e2e, sec = Path("/r/tests/e2e/t.py"), Path("/r/tests/security/t.py")
    slow = {"SLA_POLICIES": "x"}
    items = [
        Item("unit1", Path("/r/tests/shared/t.py"), fixturenames=("tmp_path",)),
        Item("e2e_a", e2e, env=slow),
        Item("e2e_b", e2e),
        Item("e2e_c", e2e, env={"OTHER": "1"}),
        Item("unit2", Path("/r/tests/shared/u.py"), fixturenames=()),
        Item("e2e_d", e2e),
        Item("e2e_e", e2e, env=slow),
        Item("sec_a", sec),
        Item("sec_b", sec),
    ]
    config = Config()
    pytest_plugin.pytest_collection_modifyitems(config, items)  # type: ignore[arg-type]
    assert [i.nodeid for i in items] == ["unit1", "e2e_a", "e2e_e", "e2e_b", "unit2", "e2e_d", "e2e_c", "sec_a", "sec_b"]
    # The last test of each directory stops that directory's stack.
    assert config.stash[pytest_plugin._LAST] == {"e2e_c", "sec_b"}


def test_the_kind_of_a_stack_ignores_the_order_of_its_environment() -> None:
    from opsdesk_devstack.stack_pool import kind_of

    assert kind_of("e2e", {"A": "1", "B": "2"}) == kind_of("e2e", {"B": "2", "A": "1"})
    assert kind_of("e2e", {"A": "1"}) != kind_of("e2e", {"A": "2"}) != kind_of("security", {"A": "1"})
