from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from opsdesk_devstack.stack import Stack


@pytest.fixture
def stack(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Stack]:
    """All five services as processes on a real NATS and database; extra env via @pytest.mark.stack_env(...)."""
    marker = request.node.get_closest_marker("stack_env")
    extra = dict(marker.kwargs) if marker else {}
    s = Stack(var_dir=tmp_path / "var", extra_env={"SLA_SWEEP_INTERVAL_S": "0.2", **extra})
    s.start()
    yield s
    s.stop()
    if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
        for log in sorted((tmp_path / "var" / "logs").glob("*.log")):
            print(f"==== {log.name}\n{log.read_text(errors='replace')[-4000:]}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
