"""The real stack a person meets through the gateway (NATS, the database, every service as a process, each on a free
port), and the demo roster's engineers, each linked to one user once per stack.

The stack comes from the shared pool (opsdesk_devstack.stack_pool), the same one the e2e tests use: every journey
without a special environment runs on one stack, and each distinct module-level `pytest.mark.stack_env(...)` gets a
stack of its own, started once. Why: a stack costs 10-25 s to start on two cores, and eleven journey modules each
starting one cost minutes of the suite's 15. So a journey keeps apart by its own data (its own people, its own
tickets), never by the emptiness of a fresh system."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from opsdesk_devstack import people
from opsdesk_devstack.pytest_plugin import share_stacks, shared_stack
from opsdesk_devstack.stack import Stack
from opsdesk_devstack.stack_pool import StackPool

_FAILED: set[str] = set()


@pytest.fixture(scope="module")
def stack(stack_pool: StackPool, request: pytest.FixtureRequest) -> Iterator[Stack]:
    """The shared stack of this module's kind; extra env via a module-level `pytest.mark.stack_env(...)`."""
    s = shared_stack(stack_pool, request.node)
    yield s
    if request.node.nodeid in _FAILED:
        # Why a step failed is usually in a service's log, not in the answer the person saw.
        for log in sorted((s.var_dir / "logs").glob("*.log")):
            print(f"==== {log.name}\n{log.read_text(errors='replace')[-4000:]}")


@pytest.fixture(scope="module")
def engineers(stack: Stack) -> dict[str, dict[str, str]]:
    """A signed-in user linked to each engineer of the demo roster, by engineer id (linked once per stack)."""
    return people.engineers(stack, people.ROSTER)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    report = yield
    if report.failed and not hasattr(report, "wasxfail"):
        module = item.getparent(pytest.Module)
        if module is not None:
            _FAILED.add(module.nodeid)
    return report


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    share_stacks(items, Path(__file__).parent, "e2e")  # one group with the e2e tests
