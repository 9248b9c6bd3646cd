"""Issue 14's fault campaign in the suite: the short profile runs with `make test`, the long one with
`make test-faults` (marker faults_long, deselected by default). Both print the table of checks."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest

from opsdesk_devstack.stack import Stack

from .campaign import LONG, SHORT, CampaignResult, Profile, run_campaign
from .checks import table

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fault_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One stack for the module: the campaign runs first, then the dead-letter and readiness checks on the same
    stack (a stack costs 20-30 s to start on a busy machine)."""
    stack = Stack(var_dir=tmp_path_factory.mktemp("faults") / "var")
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
    report = text + "\n" + "\n".join(f"{name}: {v}" for name, found in result.results.items() for v in found[:50]) + "\n"
    (out / f"last-{profile.name}.txt").write_text(report)
    # Every run's table is kept (var/ is not committed): a run on a loaded machine is compared with the others.
    (out / f"{profile.name}-{time.strftime('%Y%m%dT%H%M%S')}.txt").write_text(report)
    if not result.ok and stack.var_dir.exists():
        # Kept for reading after the run (pytest's temporary directories rotate away).
        kept = out / f"last-{profile.name}-logs"
        shutil.rmtree(kept, ignore_errors=True)
        shutil.copytree(stack.var_dir / "logs", kept)
        print(f"service logs kept in {kept}")
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


def _wait(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError("not within the timeout")
        time.sleep(0.3)
    return found


async def _publish_as_intake(stack: Stack, subject: str, body: bytes) -> None:
    assert stack.nats is not None
    nc = await nats.connect(stack.nats.url_for("intake"), inbox_prefix=b"_INBOX_intake")
    try:
        await nc.jetstream().publish(subject, body, stream="OPSDESK_EVENTS", headers={"Nats-Msg-Id": uuid.uuid4().hex})
    finally:
        await nc.close()


@pytest.mark.e2e
@pytest.mark.faults
def test_an_operator_lists_reads_and_replays_dead_letters_through_the_gateway(fault_stack: Stack) -> None:
    stack, api = fault_stack, f"{fault_stack.gateway}/api/v1/admin/dead-letters"
    admin = {"Authorization": f"Bearer {stack.token}"}
    # A ticket.created no consumer can ever take (it fails validation): dead-lettered by each of its consumers.
    marker = uuid.uuid4().hex
    asyncio.run(_publish_as_intake(stack, "ticket.created", json.dumps({"type": "ticket.created", "marker": marker}).encode()))

    def knowledge_letters() -> list[dict[str, Any]]:
        r = httpx.get(api, params={"consumer": "knowledge-ticket-created", "reason": "invalid", "limit": 200}, headers=admin, timeout=15)
        assert r.status_code == 200, r.text
        return [i for i in r.json()["items"] if i["service"] == "knowledge"]

    [item] = _wait(knowledge_letters)
    assert item["subject"] == "ticket.created" and item["replay"] is None
    one = httpx.get(f"{api}/{item['id']}", headers=admin, timeout=15)
    assert one.status_code == 200 and marker in one.json()["payload"]
    assert httpx.get(f"{api}/999999", headers=admin, timeout=15).status_code == 404

    agent_token = _agent(stack)  # a signed-in agent is refused: administrators only
    assert httpx.get(api, headers=agent_token, timeout=15).status_code == 403
    assert httpx.post(f"{api}/{item['id']}/replay", headers=agent_token, timeout=15).status_code == 403

    first = httpx.post(f"{api}/{item['id']}/replay", headers=admin, timeout=15)
    assert first.status_code == 202, first.text
    assert first.json()["subject"] == "replay.knowledge.knowledge-ticket-created"
    again = httpx.post(f"{api}/{item['id']}/replay", headers=admin, timeout=15)
    assert again.status_code == 200 and again.json()["already_replayed"] is True

    # Still invalid, so knowledge dead-letters the replay anew: proof it reached that consumer, and only once.
    def replayed_letters() -> list[dict[str, Any]]:
        r = httpx.get(api, params={"subject": "replay.knowledge.knowledge-ticket-created", "limit": 200}, headers=admin, timeout=15)
        return list(r.json()["items"])

    _wait(replayed_letters)
    time.sleep(2.0)
    assert len(replayed_letters()) == 1
    listed = httpx.get(api, params={"replayed": "true", "limit": 200}, headers=admin, timeout=15).json()["items"]
    assert [i["id"] for i in listed] == [item["id"]]

    # Counted on the service's /metrics, for the alert rule (deploy/prometheus/rules/opsdesk-alerts.yml).
    metrics = httpx.get(f"{stack.service('knowledge').url}/metrics", headers={"Authorization": f"Bearer {stack.metrics_token}"}, timeout=15)
    assert 'opsdesk_dead_letters_total{reason="invalid",service="knowledge",subject="ticket.created"}' in metrics.text

    doc = httpx.get(f"{stack.gateway}/api/v1/openapi.json", headers=admin, timeout=60).json()
    operation = doc["paths"]["/api/v1/admin/dead-letters/{dead_letter_id}/replay"]["post"]
    assert "example" in json.dumps(operation["responses"]["202"])


def _agent(stack: Stack) -> dict[str, str]:
    username = f"agent.{uuid.uuid4().hex[:8]}"
    admin = {"Authorization": f"Bearer {stack.token}"}
    made = httpx.post(f"{stack.gateway}/api/v1/users", headers=admin, timeout=15,
                      json={"username": username, "name": username, "role": "agent", "password": "Faults-day-pass-1"})
    assert made.status_code == 201, made.text
    login = httpx.post(f"{stack.gateway}/api/v1/auth/token", json={"username": username, "password": "Faults-day-pass-1"}, timeout=15)
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


@pytest.mark.e2e
@pytest.mark.faults
def test_every_service_is_ready_only_with_its_consumers_bound_and_views_loaded(fault_stack: Stack) -> None:
    from opsdesk_shared.bus_permissions import SERVICES as ON_THE_BUS

    for name in ON_THE_BUS:  # the services built on opsdesk_shared.app (the web console has no bus)
        body = httpx.get(f"{fault_stack.service(name).url}/readyz", timeout=10).json()
        assert body["checks"] == {"database": True, "nats": True, "views": True, "consumers": True}, (name, body)
