"""The e2e tests share stacks: every test without a special environment runs on one stack (NATS, the database and
every service as processes), and each distinct `@pytest.mark.stack_env(...)` gets one stack of its own, started once
(see opsdesk_devstack.stack_pool). So tests keep apart by their own data: unique user names, their own ticket ids,
and events filtered by those ids. A service a test stopped or killed is started again before the next test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from opsdesk_devstack.pytest_plugin import share_stacks, shared_stack
from opsdesk_devstack.stack import Stack
from opsdesk_devstack.stack_pool import StackPool


@pytest.fixture
def stack(stack_pool: StackPool, request: pytest.FixtureRequest) -> Iterator[Stack]:
    """The shared stack of this test's kind; extra env via @pytest.mark.stack_env(...)."""
    s = shared_stack(stack_pool, request.node)
    yield s
    if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
        for log in sorted((s.var_dir / "logs").glob("*.log")):
            print(f"==== {log.name}\n{log.read_text(errors='replace')[-4000:]}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    share_stacks(items, Path(__file__).parent, "e2e")  # one group with the journeys
