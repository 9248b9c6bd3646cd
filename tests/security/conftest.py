"""One real stack (NATS, the database, every service as a process) shared by the security suite, which attacks it.

The attacker has a foothold on the network: it can open sockets to every service port, to NATS and to the database,
but holds no credential except those a test gives it on purpose (a requester's or an engineer's sign-in).
The stack comes from the shared pool (opsdesk_devstack.stack_pool): started once, stopped after the suite's last test.
"""

from __future__ import annotations

import pytest

from opsdesk_devstack.stack import Stack
from opsdesk_devstack.stack_pool import StackPool


@pytest.fixture(scope="session")
def stack(stack_pool: StackPool) -> Stack:
    return stack_pool.get("security", {"SLA_SWEEP_INTERVAL_S": "0.5"})


@pytest.fixture(scope="session")
def engineers(stack: Stack) -> dict[str, dict[str, str]]:
    """A signed-in user linked to each engineer of the demo roster (a roster engineer has one user), by engineer id."""
    from .support import engineers

    return engineers(stack, ("eng-onsite-1", "eng-onsite-2", "eng-mobile-1", "eng-senior-1"))
