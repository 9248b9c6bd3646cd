"""The configured channels: an apprise URL each (a secret: it holds the robot's key or the gateway's token).

Channels come from settings (SLA_NOTIFY_CHANNELS, JSON), never from a request body, and their URLs are never
stored in a notification record, returned by the API or logged: records name the channel by id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

ChannelKind = Literal["email", "wecom", "dingtalk", "sms", "webhook", "console"]
ROBOTS: frozenset[str] = frozenset({"wecom", "dingtalk"})
# The in-app channel: notices kept for the person and read in the console (GET /notifications/mine). It needs no
# configuration and is always there; a configured channel cannot take its id.
IN_APP = "console"


class NotifyChannel(BaseModel):
    """One place people are reached: e.g. the desk's WeCom group robot, the agency's DingTalk group, an SMS gateway."""

    model_config = ConfigDict(frozen=True)

    kind: ChannelKind
    url: SecretStr = Field(description="apprise URL, e.g. wecombot://KEY, dingtalk://SECRET@TOKEN, mailto://host:25?from=..")
    name: str = Field(default="", description="What admins see, e.g. 运维值班群")
    # A robot takes about 20 messages a minute: 18 a minute after a burst of 2 never sends more than 20 in any minute.
    per_minute: float = Field(default=18.0, gt=0, description="Messages a minute after the burst")
    burst: int = Field(default=2, ge=1, description="Messages sent back to back before the rate applies")
    batch: int = Field(default=10, ge=1, le=50, description="Notifications joined into one robot message at most")

    @property
    def batches(self) -> bool:
        """Robots and SMS gateways get several notifications per message; email goes one per person."""
        return self.kind not in ("email", "console")


class ChannelView(BaseModel):
    """A channel as the API shows it: never its URL."""

    id: str
    kind: ChannelKind
    name: str
    per_minute: float
    batch: int


def view(channel_id: str, channel: NotifyChannel) -> ChannelView:
    return ChannelView(id=channel_id, kind=channel.kind, name=channel.name or channel_id, per_minute=channel.per_minute,
                       batch=channel.batch)


IN_APP_CHANNEL = NotifyChannel(
    kind="console", url=SecretStr("console://"), name="站内通知", per_minute=6000.0, burst=1000, batch=1,
)


def with_in_app(channels: Mapping[str, NotifyChannel]) -> dict[str, NotifyChannel]:
    """The configured channels and the in-app one (which no setting can replace)."""
    return {**{k: v for k, v in channels.items() if k != IN_APP}, IN_APP: IN_APP_CHANNEL}
