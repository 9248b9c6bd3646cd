"""One real stack (NATS, the database, every service as a process) shared by the security suite, which attacks it.

The attacker has a foothold on the network: it can open sockets to every service port, to NATS and to the database,
but holds no credential except those a test gives it on purpose (a requester's or an engineer's sign-in).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from opsdesk_devstack.stack import Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    var = tmp_path_factory.mktemp("security") / "var"
    s = Stack(var_dir=var, extra_env={"SLA_SWEEP_INTERVAL_S": "0.5"})
    s.start(ready_timeout=60)
    yield s
    s.stop()


@pytest.fixture(scope="session")
def engineers(stack: Stack) -> dict[str, dict[str, str]]:
    """A signed-in user linked to each engineer of the demo roster (a roster engineer has one user), by engineer id."""
    from .support import sign_in

    roster = ("eng-onsite-1", "eng-onsite-2", "eng-mobile-1", "eng-senior-1")
    return {eid: sign_in(stack, "engineer", engineer_id=eid, prefix=eid) for eid in roster}
