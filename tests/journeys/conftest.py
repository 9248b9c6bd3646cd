"""One real stack per journey module (NATS, the database, every service as a process, each on a free port), the way
a person meets the system through the gateway; and the demo roster's engineers, each linked to one user once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from opsdesk_devstack import people
from opsdesk_devstack.stack import Stack

_FAILED: set[str] = set()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Stack]:
    """The whole system for one person's day; extra env via a module-level `pytest.mark.stack_env(...)`."""
    marker = request.node.get_closest_marker("stack_env")
    extra = dict(marker.kwargs) if marker else {}
    var = tmp_path_factory.mktemp("journey") / "var"
    s = Stack(var_dir=var, extra_env={"SLA_SWEEP_INTERVAL_S": "0.2", **extra})
    s.start(ready_timeout=60)
    yield s
    s.stop()
    people.forget(s)
    if request.node.nodeid in _FAILED:
        # Why a step failed is usually in a service's log, not in the answer the person saw.
        for log in sorted((var / "logs").glob("*.log")):
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
