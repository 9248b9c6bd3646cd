"""The infrastructure every service opens in its lifespan: Mongo, the JetStream broker and streams."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI
from faststream.nats import NatsBroker
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from .bus import JetStreamPublisher, declare_streams, make_broker
from .logs import configure_logging
from .mongo import Document, connect, ping
from .settings import ServiceSettings


@dataclass
class Infra:
    settings: ServiceSettings
    client: AsyncMongoClient[Document]
    db: AsyncDatabase[Document]
    broker: NatsBroker
    publisher: JetStreamPublisher

    async def db_ready(self) -> bool:
        return await ping(self.db)

    async def bus_ready(self) -> bool:
        state = self.broker.config.connection_state
        return bool(state) and state.connection.is_connected


@asynccontextmanager
async def open_infra(settings: ServiceSettings) -> AsyncIterator[Infra]:
    """Connect to the database and NATS and declare streams; the caller registers subscribers, then starts the broker."""
    client = connect(settings.mongodb_url, service=settings.service_name)
    user, password = settings.nats_credentials()
    broker = make_broker(settings.nats_url, name=settings.service_name, user=user, password=password)
    try:
        await client.admin.command("ping")
        await broker.connect()
        await declare_streams(broker)
        yield Infra(settings, client, client[settings.database], broker, JetStreamPublisher(broker))
    finally:
        await broker.stop()
        await client.close()


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run one service process; logs are JSON on stderr."""
    configure_logging(settings.service_name, settings.log_level)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False, lifespan="on")
