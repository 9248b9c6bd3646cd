"""The record published on deadletter.<subject> for a message no handler could take."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class DeadLetter(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject: str = Field(description="Subject the message arrived on")
    consumer: str = Field(description="Durable consumer that gave up on it")
    reason: str = Field(description="'invalid' (failed validation) or 'failed' (handler kept raising)")
    error: str
    deliveries: int
    failed_at: datetime
    payload: str = Field(description="The original message body, as text (bytes decoded with replacement)")
    headers: dict[str, str] = Field(default_factory=dict)
