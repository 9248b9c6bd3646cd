"""The rules for users and API keys, without storage."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from intake.identity.domain import (
    FieldRejected,
    IdentityError,
    change_user,
    grace_until,
    key_hash,
    new_api_key,
    new_user,
    normalise_username,
    token_still_valid,
)

NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)


def test_username_is_stored_in_lower_case() -> None:
    assert normalise_username("  Wang.XM@Office ") == "wang.xm@office"


@pytest.mark.parametrize("bad", ["", "-wang", "wang xm", "王小明", "a" * 65, "wang/../x"])
def test_malformed_username_is_refused(bad: str) -> None:
    with pytest.raises(IdentityError):
        normalise_username(bad)


def test_new_user_has_no_password_and_blank_department_is_none() -> None:
    user = new_user(username="Li", name=" 李四 ", role="requester", department="  ", now=NOW)

    assert (user.username, user.name, user.department, user.password_hash) == ("li", "李四", None, None)
    assert user.disabled is False and user.tokens_valid_after is None


def test_new_password_or_disabling_cuts_off_earlier_tokens() -> None:
    user = new_user(username="li", name="李四", role="agent", now=NOW)
    later = NOW + timedelta(hours=1)

    assert change_user(user, by="admin", now=later, password_hash="$argon2id$x").tokens_valid_after == later
    assert change_user(user, by="admin", now=later, disabled=True).tokens_valid_after == later
    moved = change_user(user, by="admin", now=later, department="信息科", role="engineer", engineer_id="eng-7")
    assert moved.tokens_valid_after is None
    assert (moved.role, moved.department, moved.updated_at) == ("engineer", "信息科", later)


def test_admin_cannot_demote_or_disable_themselves() -> None:
    admin = new_user(username="root", name="管理員", role="admin", now=NOW)

    with pytest.raises(IdentityError):
        change_user(admin, by="root", now=NOW, role="agent")
    with pytest.raises(IdentityError):
        change_user(admin, by="root", now=NOW, disabled=True)
    assert change_user(admin, by="other-admin", now=NOW, role="agent").role == "agent"
    assert change_user(admin, by="root", now=NOW, department="信息科").department == "信息科"


def test_unknown_change_is_refused() -> None:
    user = new_user(username="li", name="李四", role="agent", now=NOW)

    with pytest.raises(IdentityError, match="username"):
        change_user(user, by=None, now=NOW, username="other")


def test_token_issued_before_the_cut_off_millisecond_is_void() -> None:
    user = new_user(username="li", name="李四", role="agent", now=NOW)
    cut = change_user(user, by=None, now=NOW + timedelta(seconds=10, microseconds=500_700), disabled=True)
    cut_at = NOW.timestamp() + 10.5

    assert cut.tokens_valid_after == NOW + timedelta(seconds=10, milliseconds=500)
    assert token_still_valid(user, 0) is True
    assert token_still_valid(cut, cut_at - 0.001) is False
    assert token_still_valid(cut, cut_at) is True


def test_api_key_secret_has_prefix_name_and_256_random_bits_and_only_its_hash_is_kept() -> None:
    key, secret = new_api_key(name="billing-system", role="agent", now=NOW)

    assert re.fullmatch(r"odk_billing-system_[A-Za-z0-9_-]{43}", secret)
    assert key.key_hash == key_hash(secret)
    assert secret not in key.model_dump_json()
    assert new_api_key(name="billing-system", role="agent", now=NOW)[1] != secret


@pytest.mark.parametrize("name", ["Billing", "billing_system", "", "-x", "x" * 49])
def test_malformed_key_name_is_refused(name: str) -> None:
    with pytest.raises(IdentityError):
        new_api_key(name=name, role="agent", now=NOW)


def test_rotated_key_grace_is_between_zero_and_seven_days() -> None:
    assert grace_until(NOW, timedelta(0)) == NOW
    assert grace_until(NOW, timedelta(days=7)) == NOW + timedelta(days=7)
    with pytest.raises(IdentityError):
        grace_until(NOW, timedelta(days=7, seconds=1))
    with pytest.raises(IdentityError):
        grace_until(NOW, timedelta(seconds=-1))


def test_key_in_grace_is_active_until_its_end() -> None:
    key, _ = new_api_key(name="billing-system", role="agent", now=NOW)
    ending = key.model_copy(update={"revoked_at": NOW + timedelta(minutes=5)})

    assert key.active(NOW + timedelta(days=999))
    assert ending.active(NOW + timedelta(minutes=4))
    assert not ending.active(NOW + timedelta(minutes=5))


def test_an_engineer_account_must_name_a_roster_engineer() -> None:
    with pytest.raises(FieldRejected) as refused:
        new_user(username="chen", name="陳工", role="engineer", now=NOW)
    assert refused.value.field == "engineer_id"

    linked = new_user(username="chen", name="陳工", role="engineer", engineer_id=" eng-7 ", now=NOW)
    assert linked.engineer_id == "eng-7"


def test_promoting_to_engineer_needs_the_link_and_unlinking_an_engineer_frees_it() -> None:
    agent = new_user(username="li", name="李四", role="agent", now=NOW)
    engineer = new_user(username="chen", name="陳工", role="engineer", engineer_id="eng-7", now=NOW)

    with pytest.raises(FieldRejected):
        change_user(agent, by="admin", now=NOW, role="engineer")
    # The link moves to another account by unlinking this one; an unlinked engineer holds no ticket.
    assert change_user(engineer, by="admin", now=NOW, engineer_id=None).engineer_id is None
    assert change_user(engineer, by="admin", now=NOW, role="agent", engineer_id=None).engineer_id is None


@pytest.mark.parametrize("bad", ["..", ".", "a/b", "a b", "50%", "x" * 65])
def test_a_roster_id_that_could_not_travel_as_one_path_segment_is_refused(bad: str) -> None:
    with pytest.raises(FieldRejected):
        new_user(username="chen", name="陳工", role="engineer", engineer_id=bad, now=NOW)
