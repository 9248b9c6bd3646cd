"""The one list of roles (opsdesk_shared.roles) and the groups every service decides on."""

from __future__ import annotations

from opsdesk_shared import internal_auth, roles
from opsdesk_shared.internal_auth import Caller


def test_the_agency_is_a_role_that_reads_everything_and_changes_nothing() -> None:
    assert "agency" in roles.ROLES
    assert roles.reads_everything("agency") and roles.read_only("agency")
    assert not roles.reads_everything("engineer") and not roles.reads_everything("requester")
    assert roles.DESK_ROLES.isdisjoint(roles.READ_ONLY_ROLES)


def test_the_internal_token_caller_uses_the_same_groups() -> None:
    assert internal_auth.STAFF_ROLES is roles.STAFF_ROLES
    assert Caller(subject="zhou", role="agency").is_staff
    assert not Caller(subject="zhou", role="agency").is_desk
    assert not Caller(subject="wang", role="requester").is_staff
