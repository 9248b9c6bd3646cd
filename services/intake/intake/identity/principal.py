"""Who is calling: the identity every intake edge and ticket query decides on."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict

Role = Literal["requester", "agent", "engineer", "manager", "auditor", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)


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
        """Auditors read everything and change nothing."""
        return self.role != "auditor"

    @property
    def username(self) -> str | None:
        """The user behind a JWT; None for an API key."""
        return self.subject if self.via == "jwt" else None
