"""The whole service as `make run` wires it, on the real database and NATS: HTTP in, events on JetStream out."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from assets.main import create_app
from assets.settings import AssetsSettings
from opsdesk_shared.bus import EVENTS_STREAM
from opsdesk_shared.bus_permissions import TEST_USER
from opsdesk_shared.contracts import Envelope, subjects
from opsdesk_shared.internal_auth_testing import InternalTokenAuth

pytestmark = pytest.mark.integration


async def test_wired_service_registers_relates_and_publishes(database_url: str, database_name: str, nats_server: Any) -> None:
    # The service signs in to NATS as its own user, so its permissions (ticket.* consumers included) are tested too.
    settings = AssetsSettings(environment="test", mongodb_url=database_url, nats_url=nats_server.url, database=database_name,
                              relay_interval_s=0.2, graph_sync_s=0.2,
                              **{"NATS_USER": "assets", "NATS_PASSWORD": nats_server.passwords["assets"]})
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://assets.test",
                                     headers={"X-Opsdesk-User": "eng-1", "X-Opsdesk-Role": "engineer"},
                                     auth=InternalTokenAuth("assets")) as api:
            server = (await api.post("/api/v1/assets", json={"type": "server", "location": {"building": "主樓"}, "status": "in_stock"})).json()
            app_ci = (await api.post("/api/v1/assets", json={"type": "application", "location": {"building": "主樓"}, "department": "財務科"})).json()
            relation = await api.post("/api/v1/relations", json={"source": app_ci["tag"], "type": "runs_on", "target": server["tag"]})
            impact = (await api.get(f"/api/v1/impact/{server['tag']}")).json()
            graph = app.state.adapters.graph  # the wiring built the graph from the database
            assert relation.status_code == 201
            assert [h["tag"] for h in impact["applications"]] == [app_ci["tag"]]
            assert graph.index.relations == 1

            import nats

            nc = await nats.connect(nats_server.url_for(TEST_USER))
            try:
                js = nc.jetstream()
                sub = await js.subscribe(subjects.CMDB_CI_CHANGED, stream=EVENTS_STREAM)
                seen = [Envelope.model_validate_json((await sub.next_msg(timeout=5)).data) for _ in range(3)]
                reply = await nc.request(subjects.RPC_CMDB_IMPACT, json.dumps({"tag": server["tag"]}).encode(), timeout=3)
            finally:
                await nc.close()

    assert [(e.data["tag"], e.data["change"], e.data["by"]) for e in seen] == [
        (server["tag"], "created", "eng-1"), (app_ci["tag"], "created", "eng-1"), (app_ci["tag"], "relation_added", "eng-1"),
    ]
    assert json.loads(reply.data)["impact"]["applications"][0]["tag"] == app_ci["tag"]
