"""Administer intake's users and API keys from a shell, on the same database and adapters as the service.

    python -m intake.admin create-user --username wang --role agent --department 辦公室 --name 王小明 [--password-stdin]
    python -m intake.admin set-password --username wang --password-stdin
    python -m intake.admin create-key --name billing-system --role agent      # prints the key once, on stdout
    python -m intake.admin rotate-key --name billing-system [--grace-seconds 3600]
    python -m intake.admin revoke-key --name billing-system
    python -m intake.admin import-requesters requesters.csv [--dry-run]
    python -m intake.admin list-users [--role requester] [--department 辦公室]
    python -m intake.admin list-keys

Reads MONGODB_URL and INTAKE_DATABASE (default opsdesk_intake) like the service. Exit status: 0 done, 1 refused
(exists, not found, bad rows, bad password), 2 usage error. Secrets go to stdout, everything else to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import get_args

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from opsdesk_shared.mongo import Document, connect
from opsdesk_shared.settings import ServiceSettings, settings_config

from .identity.adapters_mongo import MongoApiKeyStore, MongoUserStore
from .identity.domain import IdentityError, change_user, grace_until, new_api_key, new_user, normalise_username
from .identity.passwords import PasswordRejected, Passwords, check_length
from .identity.principal import Role
from .identity.requesters_csv import CsvRejected, import_requesters

ROLE_CHOICES = list(get_args(Role))


class AdminSettings(ServiceSettings):
    """Only what the CLI needs of intake's settings: where the database is."""

    model_config = settings_config("INTAKE_")
    service_name: str = "intake"


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


async def create_user(db: AsyncDatabase[Document], args: argparse.Namespace) -> None:
    password_hash = Passwords().hash(_read_password()) if args.password_stdin else None
    try:
        user = new_user(
            username=args.username,
            name=args.name,
            role=args.role,
            department=args.department,
            email=args.email,
            phone=args.phone,
            password_hash=password_hash,
            now=datetime.now(UTC),
        )
    except IdentityError as exc:
        raise Refused(str(exc)) from None
    if not await MongoUserStore(db).add(user):
        raise Refused(f"user {user.username} exists")
    _say(f"created user {user.username} ({user.role})" + ("" if password_hash else "; no password: cannot log in until one is set"))


async def set_password(db: AsyncDatabase[Document], args: argparse.Namespace) -> None:
    users = MongoUserStore(db)
    username = normalise_username(args.username)
    user = await users.get(username)
    if user is None:
        raise Refused(f"user {username} not found")
    password_hash = Passwords().hash(_read_password())
    if not await users.save(change_user(user, by=None, now=datetime.now(UTC), password_hash=password_hash)):
        raise Refused(f"user {username} changed meanwhile; try again")
    _say(f"password of {username} set; their earlier tokens no longer work")


async def create_key(db: AsyncDatabase[Document], args: argparse.Namespace) -> None:
    try:
        key, secret = new_api_key(name=args.name, role=args.role, now=datetime.now(UTC))
    except IdentityError as exc:
        raise Refused(str(exc)) from None
    if not await MongoApiKeyStore(db).create(key):
        raise Refused(f"API key {args.name} exists; use rotate-key")
    _say(f"created API key {key.name} ({key.role}); it is shown once:")
    print(secret)


async def rotate_key(db: AsyncDatabase[Document], args: argparse.Namespace) -> None:
    keys = MongoApiKeyStore(db)
    now = datetime.now(UTC)
    current = await keys.by_name(args.name)
    if current is None:
        raise Refused(f"API key {args.name} not found")
    try:
        until = grace_until(now, timedelta(seconds=args.grace_seconds))
    except IdentityError as exc:
        raise Refused(str(exc)) from None
    replacement, secret = new_api_key(name=args.name, role=current.role, now=now)
    if await keys.rotate(args.name, replacement, old_until=until, now=now) is None:
        raise Refused(f"API key {args.name} is revoked; use create-key")
    when = "now" if until <= now else f"at {until.isoformat(timespec='seconds')}"
    _say(f"rotated API key {args.name}; the old secret stops working {when} (other instances: within 30 s). New key:")
    print(secret)


async def revoke_key(db: AsyncDatabase[Document], args: argparse.Namespace) -> None:
    keys = MongoApiKeyStore(db)
    if await keys.by_name(args.name) is None:
        raise Refused(f"API key {args.name} not found")
    revoked = await keys.revoke(args.name, now=datetime.now(UTC))
    _say(f"revoked {len(revoked)} secret(s) of API key {args.name} (running instances refuse them within 30 s)")


async def import_file(db: AsyncDatabase[Document], args: argparse.Namespace) -> None:
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        raise Refused(f"cannot read {args.file}: {exc.strerror}") from None
    try:
        report = await import_requesters(data, users=MongoUserStore(db), now=datetime.now(UTC), dry_run=args.dry_run)
    except CsvRejected as exc:
        raise Refused(f"{args.file}: {exc}") from None
    for error in report.errors:
        _say(f"row {error.row}: {error.message}")
    verb = "would create" if report.dry_run else "created"
    _say(f"{verb} {len(report.created)} requester(s), skipped {len(report.skipped)} existing, {len(report.errors)} bad row(s)")
    if report.errors:
        raise Refused("some rows were not imported")


async def list_users(db: AsyncDatabase[Document], args: argparse.Namespace) -> None:
    users = MongoUserStore(db)
    offset = 0
    print("username\trole\tdepartment\tname\tdisabled\thas_password")
    while batch := await users.list(role=args.role, department=args.department, limit=500, offset=offset):
        for u in batch:
            print(f"{u.username}\t{u.role}\t{u.department or ''}\t{u.name}\t{u.disabled}\t{u.password_hash is not None}")
        offset += len(batch)


async def list_keys(db: AsyncDatabase[Document], args: argparse.Namespace) -> None:
    print("name\trole\tcreated_at\trevoked_at")
    for k in await MongoApiKeyStore(db).list():
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
    c.add_argument("--email")
    c.add_argument("--phone")
    c.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    c.set_defaults(run=create_user)

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


async def _run(args: argparse.Namespace, settings: AdminSettings) -> None:
    client = connect(settings.mongodb_url)
    try:
        await args.run(client[settings.database], args)
    finally:
        await client.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        asyncio.run(_run(args, AdminSettings()))
    except (Refused, IdentityError) as exc:
        _say(f"error: {exc}")
        return 1
    except PyMongoError as exc:
        _say(f"error: database: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
