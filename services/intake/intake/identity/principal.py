"""Who is calling: the identity every intake edge and ticket query decides on."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from opsdesk_shared.roles import ROLES as ROLES
from opsdesk_shared.roles import Role as Role
from opsdesk_shared.roles import read_only


class Principal(BaseModel):
    """An authenticated caller; a user (`subject` = username) or a system API key (`subject` = "key:<name>")."""

    model_config = ConfigDict(frozen=True)

    subject: str
    name: str
    role: Role
    department: str | None = None
    engineer_id: str | None = None
    via: Literal["jwt", "api_key"]

    def can_write(self) -> bool:
        """Auditors and the agency read everything and change nothing of the team's records."""
        return not read_only(self.role)

    @property
    def username(self) -> str | None:
        """The user behind a JWT; None for an API key."""
        return self.subject if self.via == "jwt" else None
