"""The live stream's limits (INTAKE_STREAM_*), apart from IntakeSettings so the stream's knobs stay in its package."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings

from opsdesk_shared.settings import settings_config


class LiveSettings(BaseSettings):
    model_config = settings_config("INTAKE_STREAM_")

    # Events kept for reconnects: at a busy desk's few events a second, 4,096 are many minutes of history.
    ring_size: int = Field(default=4096, ge=16)
    # Stream messages read back from JetStream at start-up, so that a client reconnecting across a gateway restart
    # (or to another replica) resumes from its Last-Event-ID instead of being told to reload. 0: start at the tail.
    backfill: int = Field(default=2000, ge=0)
    # How long start-up waits for the backfill to be read before the gateway is ready anyway (ids it has not reached
    # yet are then answered with a reload, never skipped).
    backfill_wait_s: float = Field(default=20.0, ge=0)
    per_user: int = Field(default=8, ge=1, description="Open streams per user (tabs, a phone)")
    total: int = Field(default=1000, ge=1, description="Open streams per gateway process")
    heartbeat_s: float = Field(default=15.0, gt=0)
    # Frames waiting for one slow client before it is dropped with a reload message.
    queue_size: int = Field(default=512, ge=8)
    # What a client is told to wait before reconnecting (SSE `retry:`), in milliseconds.
    retry_ms: int = Field(default=3000, ge=100)
