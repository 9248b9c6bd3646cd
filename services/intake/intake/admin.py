"""Administer intake's users and API keys from a shell, on the same database and adapters as the service.

    python -m intake.admin create-user --username wang --role agent --department 辦公室 --name 王小明 [--password-stdin]
    python -m intake.admin create-user --username chen --role engineer --name 陳工 --engineer-id eng-7
    python -m intake.admin update-user --username chen [--role R] [--engineer-id ID] [--department D] [--disable|--enable]
    python -m intake.admin set-password --username wang --password-stdin
    python -m intake.admin create-key --name billing-system --role agent      # prints the key once, on stdout
    python -m intake.admin rotate-key --name billing-system [--grace-seconds 3600]
    python -m intake.admin revoke-key --name billing-system
    python -m intake.admin import-requesters requesters.csv [--dry-run]
    python -m intake.admin list-users [--role requester] [--department 辦公室]
    python -m intake.admin list-keys

Reads MONGODB_URL and INTAKE_DATABASE (default opsdesk_intake) like the service; a roster link is checked with
dispatch (INTAKE_DISPATCH_URL, as intake with INTAKE_INTERNAL_SIGNING_KEY). Every command runs the same use cases
as the HTTP routes (intake/identity/service.py), security log lines included. Exit status: 0 done, 1 refused
(exists, not found, bad rows, bad password), 2 usage error. Secrets go to stdout, everything else to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, get_args

import httpx
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from opsdesk_shared.logs import configure_logging
from opsdesk_shared.mongo import Document, connect
from opsdesk_shared.settings import ServiceSettings, settings_config

from .gateway.tokens import internal_minter
from .identity import service as accounts
from .identity.adapters_mongo import MongoApiKeyStore, MongoUserStore
from .identity.domain import IdentityError
from .identity.passwords import PasswordRejected, check_length
from .identity.principal import Role
from .identity.requesters_csv import CsvRejected, import_requesters
from .identity.roster import HttpRoster, NoRoster, Roster

ROLE_CHOICES = list(get_args(Role))


class AdminSettings(ServiceSettings):
    """Only what the CLI needs of intake's settings: the database, and dispatch to check an engineer's roster link."""

    model_config = settings_config("INTAKE_")
    service_name: str = "intake"
    dispatch_url: str = ""
    internal_signing_key: str = ""
    upstream_timeout_s: float = 15.0


class Refused(Exception):
    """The command could not do what was asked; the message says why."""


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def _read_password() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        check_length(password)
    except PasswordRejected as exc:
        raise Refused(str(exc)) from None
    return password


async def create_user(acc: accounts.Accounts, args: argparse.Namespace) -> None:
    password = _read_password() if args.password_stdin else None
    user = await accounts.create_user(
        acc, username=args.username, name=args.name, role=args.role, department=args.department,
        engineer_id=args.engineer_id, email=args.email, phone=args.phone, password=password, now=datetime.now(UTC), by=None,
    )
    linked = f", roster engineer {user.engineer_id}" if user.engineer_id else ""
    _say(f"created user {user.username} ({user.role}{linked})" + ("" if password else "; no password: cannot log in until one is set"))


async def update_user(acc: accounts.Accounts, args: argparse.Namespace) -> None:
    changes: dict[str, Any] = {}
    for option in ("name", "role", "department", "engineer_id"):
        value = getattr(args, option)
        if value is not None:
            changes[option] = value or None  # an empty string clears department or engineer_id
    if args.disable or args.enable:
        changes["disabled"] = bool(args.disable)
    if not changes:
        raise Refused("nothing to change")
    user = await accounts.update_user(acc, username=args.username, changes=changes, now=datetime.now(UTC), by=None)
    _say(f"updated user {user.username}: {', '.join(sorted(changes))}")


async def set_password(acc: accounts.Accounts, args: argparse.Namespace) -> None:
    password = _read_password()
    user = await accounts.update_user(acc, username=args.username, changes={}, password=password, now=datetime.now(UTC), by=None)
    _say(f"password of {user.username} set; their earlier tokens no longer work")


async def create_key(acc: accounts.Accounts, args: argparse.Namespace) -> None:
    key, secret = await accounts.create_key(acc, name=args.name, role=args.role, now=datetime.now(UTC), by=None)
    _say(f"created API key {key.name} ({key.role}); it is shown once:")
    print(secret)


async def rotate_key(acc: accounts.Accounts, args: argparse.Namespace) -> None:
    now = datetime.now(UTC)
    _, secret, until = await accounts.rotate_key(acc, name=args.name, grace=timedelta(seconds=args.grace_seconds), now=now, by=None)
    when = "now" if until <= now else f"at {until.isoformat(timespec='seconds')}"
    _say(f"rotated API key {args.name}; the old secret stops working {when} (other instances: within 30 s). New key:")
    print(secret)


async def revoke_key(acc: accounts.Accounts, args: argparse.Namespace) -> None:
    revoked = await accounts.revoke_key(acc, name=args.name, now=datetime.now(UTC), by=None)
    _say(f"revoked {revoked} secret(s) of API key {args.name} (running instances refuse them within 30 s)")


async def import_file(acc: accounts.Accounts, args: argparse.Namespace) -> None:
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        raise Refused(f"cannot read {args.file}: {exc.strerror}") from None
    try:
        report = await import_requesters(data, users=acc.users, now=datetime.now(UTC), dry_run=args.dry_run)
    except CsvRejected as exc:
        raise Refused(f"{args.file}: {exc}") from None
    for error in report.errors:
        _say(f"row {error.row}: {error.message}")
    verb = "would create" if report.dry_run else "created"
    _say(f"{verb} {len(report.created)} requester(s), skipped {len(report.skipped)} existing, {len(report.errors)} bad row(s)")
    if report.errors:
        raise Refused("some rows were not imported")


async def list_users(acc: accounts.Accounts, args: argparse.Namespace) -> None:
    offset = 0
    print("username\trole\tdepartment\tname\tdisabled\thas_password\tengineer_id")
    while batch := await accounts.list_users(acc, role=args.role, department=args.department, limit=500, offset=offset):
        for u in batch:
            print(f"{u.username}\t{u.role}\t{u.department or ''}\t{u.name}\t{u.disabled}\t{u.password_hash is not None}"
                  f"\t{u.engineer_id or ''}")
        offset += len(batch)


async def list_keys(acc: accounts.Accounts, args: argparse.Namespace) -> None:
    print("name\trole\tcreated_at\trevoked_at")
    for k in await accounts.list_keys(acc):
        revoked = k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else ""
        print(f"{k.name}\t{k.role}\t{k.created_at.isoformat(timespec='seconds')}\t{revoked}")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m intake.admin", description="Administer intake's users and API keys.")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("create-user", help="create a user")
    c.add_argument("--username", required=True)
    c.add_argument("--name", required=True)
    c.add_argument("--role", required=True, choices=ROLE_CHOICES)
    c.add_argument("--department")
    c.add_argument("--engineer-id", help="the roster engineer (dispatch's id); required for role engineer")
    c.add_argument("--email")
    c.add_argument("--phone")
    c.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    c.set_defaults(run=create_user)

    c = sub.add_parser("update-user", help="change a user's name, role, department or roster link; disable or enable")
    c.add_argument("--username", required=True)
    c.add_argument("--name")
    c.add_argument("--role", choices=ROLE_CHOICES)
    c.add_argument("--department", help="an empty string clears it")
    c.add_argument("--engineer-id", help="the roster engineer (dispatch's id); an empty string clears it")
    state = c.add_mutually_exclusive_group()
    state.add_argument("--disable", action="store_true", help="disable the user (ends their tokens)")
    state.add_argument("--enable", action="store_true")
    c.set_defaults(run=update_user)

    c = sub.add_parser("set-password", help="set a user's password (ends their tokens)")
    c.add_argument("--username", required=True)
    c.add_argument("--password-stdin", action="store_true", required=True)
    c.set_defaults(run=set_password)

    c = sub.add_parser("create-key", help="create a named API key for a system; prints it once")
    c.add_argument("--name", required=True)
    c.add_argument("--role", required=True, choices=ROLE_CHOICES)
    c.set_defaults(run=create_key)

    c = sub.add_parser("rotate-key", help="new secret for a key; the old one stops working")
    c.add_argument("--name", required=True)
    c.add_argument("--grace-seconds", type=int, default=0, help="keep the old secret working this long (max 7 days)")
    c.set_defaults(run=rotate_key)

    c = sub.add_parser("revoke-key", help="revoke every secret of a key")
    c.add_argument("--name", required=True)
    c.set_defaults(run=revoke_key)

    c = sub.add_parser("import-requesters", help="create requesters from a CSV: username,name,department,email,phone")
    c.add_argument("file")
    c.add_argument("--dry-run", action="store_true", help="check the file and report, write nothing")
    c.set_defaults(run=import_file)

    c = sub.add_parser("list-users", help="list users as tab-separated lines")
    c.add_argument("--role", choices=ROLE_CHOICES)
    c.add_argument("--department")
    c.set_defaults(run=list_users)

    c = sub.add_parser("list-keys", help="list API keys (never their secrets)")
    c.set_defaults(run=list_keys)
    return p


@asynccontextmanager
async def _roster(settings: AdminSettings) -> AsyncIterator[Roster]:
    """Dispatch's roster, asked as intake itself, exactly as the service asks it."""
    if not settings.dispatch_url:
        yield NoRoster()
        return
    minter = internal_minter(settings.internal_signing_key, environment=settings.environment)
    async with httpx.AsyncClient(timeout=settings.upstream_timeout_s) as client:
        yield HttpRoster(client=client, base_url=settings.dispatch_url, minter=minter)


def _accounts(db: AsyncDatabase[Document], roster: Roster) -> accounts.Accounts:
    return accounts.Accounts(users=MongoUserStore(db), keys=MongoApiKeyStore(db), roster=roster)


async def _run(args: argparse.Namespace, settings: AdminSettings) -> None:
    client = connect(settings.mongodb_url)
    try:
        async with _roster(settings) as roster:
            await args.run(_accounts(client[settings.database], roster), args)
    finally:
        await client.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = AdminSettings()
    # Security events (user created, key revoked ...) go to stderr as JSON lines, as the service logs them.
    configure_logging("intake-admin", settings.log_level)
    try:
        asyncio.run(_run(args, settings))
    except (Refused, IdentityError, accounts.NotFound, accounts.Conflict, accounts.NotAllowed) as exc:
        _say(f"error: {exc}")
        return 1
    except accounts.RosterUnavailable as exc:
        _say(f"error: cannot check the roster link: {exc}")
        return 1
    except PyMongoError as exc:
        _say(f"error: database: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
