"""Issue 14's fault campaign in the suite: the short profile runs with `make test`, the long one with
`make test-faults` (marker faults_long, deselected by default). Both print the table of checks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from opsdesk_devstack.stack import Stack

from .campaign import LONG, SHORT, CampaignResult, Profile, run_campaign
from .checks import table

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def fault_stack(tmp_path: Path) -> Iterator[Stack]:
    stack = Stack(var_dir=tmp_path / "var")
    stack.start(ready_timeout=90)
    try:
        yield stack
    finally:
        stack.stop()


def _run(stack: Stack, profile: Profile) -> CampaignResult:
    result = run_campaign(stack, profile)
    text = table(result.results, extra=result.notes)
    print(f"\n==== fault campaign ({profile.name})\n{text}")
    out = REPO / "var" / "faults"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"last-{profile.name}.txt").write_text(text + "\n" + "\n".join(
        f"{name}: {v}" for name, found in result.results.items() for v in found[:50]) + "\n")
    if not result.ok and stack.var_dir.exists():
        for log in sorted((stack.var_dir / "logs").glob("*.log")):
            print(f"==== {log.name}\n{log.read_text(errors='replace')[-3000:]}")
    return result


def _assert_held(result: CampaignResult) -> None:
    broken = {name: found[:5] for name, found in result.results.items() if found}
    assert not broken, f"checks violated: {broken}"
    assert all(f.ready_after_s >= 0 for f in result.faults), [f for f in result.faults if f.error]
    assert result.faults and len(result.faults) == len(result.profile.faults)


@pytest.mark.e2e
@pytest.mark.faults
def test_short_campaign_loses_nothing_and_every_view_settles(fault_stack: Stack) -> None:
    _assert_held(_run(fault_stack, SHORT))


@pytest.mark.e2e
@pytest.mark.faults_long
def test_long_campaign_every_component_killed_shows_zeros(fault_stack: Stack) -> None:
    _assert_held(_run(fault_stack, LONG))
