"""Finding 2: NATS and the database refuse strangers, and a service says only what it owns.

Before, an anonymous client published `kb.suggested` and its text appeared on a ticket as written by "knowledge";
an unauthenticated database client read and wrote the `users` and `api_keys` collections.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import nats
import pytest
from nats.errors import NoServersError
from pymongo import MongoClient
from pymongo.errors import OperationFailure

from opsdesk_devstack.stack import Stack

pytestmark = pytest.mark.e2e


async def _publish_as(url: str, subject: str) -> list[str]:
    """Publish one message as the user in `url`; return the errors the server sent back (permission violations)."""
    errors: list[str] = []

    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    nc = await nats.connect(url, error_cb=on_error, allow_reconnect=False, connect_timeout=3)
    try:
        payload = {"event_id": uuid.uuid4().hex, "type": subject, "data": {"text": "forged"}}
        await nc.publish(subject, json.dumps(payload).encode())
        await nc.flush(timeout=3)
        await asyncio.sleep(0.3)  # the server reports a violation asynchronously
    finally:
        await nc.close()
    return errors


def test_an_anonymous_nats_client_is_refused(stack: Stack) -> None:
    assert stack.nats is not None

    async def attempt() -> None:
        await nats.connect(stack.nats.url, allow_reconnect=False, connect_timeout=3, max_reconnect_attempts=0)

    with pytest.raises((NoServersError, nats.errors.Error, OSError)):
        asyncio.run(attempt())


@pytest.mark.parametrize(("user", "subject"), [
    ("intake", "kb.suggested"),          # the forged suggestion of the review, now from another service's account
    ("knowledge", "ticket.created"),
    ("reporting", "ticket.resolved"),
    ("dispatch", "sla.breached"),
    ("assets", "ticket.assigned"),
    ("observer", "ticket.created"),
])
def test_a_service_cannot_publish_what_it_does_not_own(stack: Stack, user: str, subject: str) -> None:
    assert stack.nats is not None
    errors = asyncio.run(_publish_as(stack.nats.url_for(user), subject))
    assert any("permissions violation" in e.lower() for e in errors), errors


def test_the_owner_may_publish_its_own_subject(stack: Stack) -> None:
    """The refusal above is about ownership, not a broken account: knowledge may say kb.suggested."""
    assert stack.nats is not None
    errors = asyncio.run(_publish_as(stack.nats.url_for("knowledge"), "kb.suggested"))
    assert not any("permissions violation" in e.lower() for e in errors), errors


def test_the_database_refuses_a_client_without_credentials(stack: Stack) -> None:
    assert stack.database is not None
    anonymous_url = stack.database.url.split("@")[-1]
    anonymous_url = anonymous_url if anonymous_url.startswith("mongodb://") else "mongodb://" + anonymous_url
    client: MongoClient[dict[str, object]] = MongoClient(anonymous_url, serverSelectionTimeoutMS=3000)
    try:
        with pytest.raises(OperationFailure):
            client["opsdesk_intake"]["users"].find_one({})
        with pytest.raises(OperationFailure):
            client["opsdesk_intake"]["api_keys"].insert_one({"_id": "forged", "hash": "x", "role": "admin"})
    finally:
        client.close()


def test_a_wrong_database_password_is_refused(stack: Stack) -> None:
    assert stack.database is not None
    url = stack.database.url_for("knowledge")
    user_part, host_part = url.removeprefix("mongodb://").split("@", 1)
    forged = f"mongodb://{user_part.split(':')[0]}:wrong-password@{host_part}"
    client: MongoClient[dict[str, object]] = MongoClient(forged, serverSelectionTimeoutMS=3000)
    try:
        with pytest.raises(OperationFailure):
            client["opsdesk_intake"]["users"].find_one({})
    finally:
        client.close()
