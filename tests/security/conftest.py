"""One real stack (NATS, the database, every service as a process) shared by the security suite, which attacks it.

The attacker has a foothold on the network: it can open sockets to every service port, to NATS and to the database,
but holds no credential except those a test gives it on purpose (a requester's or an engineer's sign-in).
The stack is the shared end-to-end one (opsdesk_devstack.pytest_plugin.shared_stack), which the e2e tests and the
journeys use too: the attacks run on a system that has lived a day, and no stack starts for them alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from opsdesk_devstack.pytest_plugin import share_stacks, shared_stack
from opsdesk_devstack.stack import Stack
from opsdesk_devstack.stack_pool import StackPool


@pytest.fixture(scope="module")
def stack(stack_pool: StackPool, request: pytest.FixtureRequest) -> Stack:
    return shared_stack(stack_pool, request.node)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    share_stacks(items, Path(__file__).parent, "e2e")  # one group with the e2e tests and the journeys


@pytest.fixture(scope="module")
def engineers(stack: Stack) -> dict[str, dict[str, str]]:
    """A signed-in user linked to each engineer of the demo roster (a roster engineer has one user), by engineer id."""
    from .support import engineers

    return engineers(stack, ("eng-onsite-1", "eng-onsite-2", "eng-mobile-1", "eng-senior-1"))
