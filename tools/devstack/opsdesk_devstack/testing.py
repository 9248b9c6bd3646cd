"""Helpers for tests that read what really reached JetStream."""
from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy


async def collect(
    broker: Any, subject: str, *, want: int, timeout: float = 5.0, where: Callable[[dict[str, Any]], bool] | None = None
) -> list[dict[str, Any]]:
    """Read what JetStream holds on a subject (from the start), until `want` messages or the timeout.

    With `where`, only the messages it accepts are kept and counted (a test on a shared stack reads its own)."""
    js = broker.config.connection_state.stream
    sub = await js.pull_subscribe(
        subject, durable=None, config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE)
    )
    got: list[dict[str, Any]] = []
    deadline = asyncio.get_running_loop().time() + timeout
    while len(got) < want and asyncio.get_running_loop().time() < deadline:
        try:
            msgs = await sub.fetch(want - len(got) if where is None else 256, timeout=0.3)
        except Exception:
            continue
        read = ({"subject": m.subject, "headers": m.headers or {}, "body": json.loads(m.data)} for m in msgs)
        got.extend(m for m in read if where is None or where(m))
    await sub.unsubscribe()
    return got


async def eventually(check: Callable[[], Any], *, timeout: float = 5.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.05)
