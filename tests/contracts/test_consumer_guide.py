"""docs/consuming-events.md is followed to the letter on a real nats-server: the permission block it tells an
operator to add lets an outside consumer read, ack and replay its own durables and nothing else; its tables name
the streams and the owner of every event type as the code has them."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from opsdesk_devstack import natsconf
from opsdesk_devstack.infra import Process, free_port, nats_server_binary, spawn, wait_for_port
from opsdesk_shared.bus import EVENT_SUBJECTS, JetStreamPublisher, declare_streams, make_broker
from opsdesk_shared.bus_permissions import TEST_USER, owner_of
from opsdesk_shared.contracts import REGISTRY, Envelope

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "consuming-events.md"
SAMPLES = Path(__file__).parent / "samples"
STREAM = "OPSDESK_EVENTS"
USER = "erp"


def guide() -> str:
    return GUIDE.read_text()


def documented_permissions() -> dict[str, Any]:
    match = re.search(r"<!-- consumer-permissions: (\S+) -->\s*```json\n(.*?)```", guide(), re.S)
    assert match and match.group(1) == USER, "the guide's permission block is missing"
    block: dict[str, Any] = json.loads(match.group(2))
    return block


def family_rows() -> list[tuple[str, str, str]]:
    """(family, owner, events cell) of the guide's owner table."""
    return [
        (m.group(1), m.group(2).strip(), m.group(3))
        for m in re.finditer(r"^\| `([a-z]+)\.\*` \| ([a-z-]+) \| (.*) \|$", guide(), re.M)
    ]


def test_the_guide_names_both_streams_and_every_captured_subject_family() -> None:
    text = guide()
    assert "`OPSDESK_EVENTS`" in text and "`OPSDESK_DEADLETTER`" in text
    assert all(f"`{subject}`" in text for subject in EVENT_SUBJECTS)


def test_the_guide_names_the_owner_of_every_event_type() -> None:
    rows = family_rows()
    for event_type, _ in REGISTRY:
        family, owner = event_type.split(".")[0], owner_of(event_type)
        assert (family, owner) in {(f, o) for f, o, _ in rows}, f"{event_type}: no row for {family}.* owned by {owner}"
    # An event spelled out in a row belongs to that row's owner.
    for _family, owner, events in rows:
        for named in re.findall(r"`([a-z_]+\.[a-z_]+)`", events):
            assert owner_of(named) == owner, f"{named} is listed under {owner}"


def test_the_documented_block_allows_only_the_consumers_own_durables() -> None:
    block = documented_permissions()
    allowed = block["publish"]["allow"]
    assert all(rule.startswith("$JS.") for rule in allowed), "no event subject, no dead-letter subject"
    assert not any(".STREAM.CREATE." in rule or ".STREAM.UPDATE." in rule for rule in allowed)
    pattern = re.compile(r"\$JS\.(?:API\.CONSUMER\.(?:CREATE|INFO|MSG\.NEXT|DELETE)|ACK)\.OPSDESK_EVENTS\.([^.]+)")
    durables = {m.group(1) for rule in allowed if (m := pattern.match(rule))}
    assert durables == {f"{USER}-ticket-created", f"{USER}-ticket-resolved"}
    assert block["subscribe"]["allow"] == [f"_INBOX_{USER}.>"]


@pytest.fixture
def nats_with_outside_user(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A nats-server with the test user (plays Opsdesk) and the guide's outside user with the guide's block."""
    passwords = {TEST_USER: secrets.token_urlsafe(16), USER: secrets.token_urlsafe(16)}
    port = free_port()
    text = natsconf.render({TEST_USER: passwords[TEST_USER]}, listen=f"127.0.0.1:{port}", store_dir=str(tmp_path / "js"))
    entry = f"    {{ user: {json.dumps(USER)}, password: {json.dumps(passwords[USER])}, permissions: {json.dumps(documented_permissions())} }}\n"
    text = text.replace("  ]\n}\n", entry + "  ]\n}\n")
    config = tmp_path / "nats.conf"
    config.write_text(text)
    log = tmp_path / "nats.log"
    proc = spawn([nats_server_binary(), "-c", str(config)], log=log)
    try:
        wait_for_port(port, proc=proc, name="nats-server", log=log)
        yield f"nats://127.0.0.1:{port}", passwords
    finally:
        Process("nats", proc, log).stop()


async def publish_samples(url: str, password: str) -> list[str]:
    """Three ticket.created and one ticket.assigned, as Opsdesk would publish them; returns the created ids."""
    broker = make_broker(url, name="test", user=TEST_USER, password=password)
    await broker.connect()
    try:
        await declare_streams(broker)
        publisher = JetStreamPublisher(broker)
        ids = []
        for n in range(3):
            raw = json.loads((SAMPLES / "ticket.created.v1.json").read_text())
            raw.pop("event_id")
            event = Envelope.model_validate({**raw, "subject_id": f"t-{n}"})
            await publisher.publish(event)
            ids.append(str(event.event_id))
        assigned = json.loads((SAMPLES / "ticket.assigned.v1.json").read_text())
        await publisher.publish(Envelope.model_validate(assigned))
        js = broker.config.connection_state.stream
        # A service's durable, which the outside user must not be able to pull from.
        await js.add_consumer(STREAM, ConsumerConfig(name="dispatch-ticket-created", durable_name="dispatch-ticket-created", filter_subject="ticket.created"))
        return ids
    finally:
        await broker.stop()


@pytest.fixture
async def outside_client(nats_with_outside_user: tuple[str, dict[str, str]]) -> AsyncIterator[tuple[Any, list[str]]]:
    url, passwords = nats_with_outside_user
    ids = await publish_samples(url, passwords[TEST_USER])

    async def quiet(_: Exception) -> None:  # permission errors are expected below; they arrive here too
        return None

    nc = await nats.connect(url, user=USER, password=passwords[USER], inbox_prefix=f"_INBOX_{USER}", error_cb=quiet)
    yield nc, ids
    await nc.close()


@pytest.mark.integration
async def test_outside_consumer_reads_acks_and_replays_with_the_guides_permissions(outside_client) -> None:
    nc, ids = outside_client
    js = nc.jetstream()
    config = ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=30, deliver_policy=DeliverPolicy.ALL)
    sub = await js.pull_subscribe("ticket.created", durable="erp-ticket-created", stream=STREAM, config=config)
    batch = await sub.fetch(10, timeout=3)
    assert [json.loads(m.data)["event_id"] for m in batch] == ids
    assert all(m.headers["correlation_id"] == json.loads(m.data)["correlation_id"] for m in batch)
    for m in batch:
        await m.ack()
    second_seq = batch[1].metadata.sequence.stream
    await sub.unsubscribe()

    # Replay from a stream sequence: delete the durable, create it again with a start position.
    await js.delete_consumer(STREAM, "erp-ticket-created")
    replay = ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=second_seq)
    sub = await js.pull_subscribe("ticket.created", durable="erp-ticket-created", stream=STREAM, config=replay)
    again = await sub.fetch(10, timeout=3)
    assert [json.loads(m.data)["event_id"] for m in again] == ids[1:]


async def attempt(js: Any, what: str) -> None:
    if what == "durable on a subject not granted":
        await js.pull_subscribe("ticket.assigned", durable="erp-ticket-assigned", stream=STREAM)
    elif what == "pull from a service's durable":
        sub = await js.pull_subscribe_bind(durable="dispatch-ticket-created", stream=STREAM)
        await sub.fetch(1, timeout=1)
    elif what == "publish an event":  # the server drops it, so JetStream never acks
        await js.publish("ticket.created", b"{}", timeout=1.0)
    elif what == "delete a service's durable":
        await js.delete_consumer(STREAM, "dispatch-ticket-created")


@pytest.mark.integration
@pytest.mark.parametrize(
    "what",
    ["durable on a subject not granted", "pull from a service's durable", "publish an event", "delete a service's durable"],
)
async def test_outside_consumer_is_refused(outside_client, what: str) -> None:
    nc, _ = outside_client
    with pytest.raises(Exception):  # noqa: B017 - the refusal surfaces as a timeout or a permission error
        await attempt(nc.jetstream(timeout=1.0), what)
