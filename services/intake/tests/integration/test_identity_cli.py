"""`python -m intake.admin` end to end, as a separate process against the real database."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request

from intake.identity import Identity
from intake.identity.adapters_mongo import MongoApiKeyStore, MongoUserStore
from intake.identity.domain import key_hash
from intake.identity.passwords import Passwords
from opsdesk_shared.internal_auth import InvalidInternalToken, TokenVerifier
from opsdesk_shared.internal_auth_testing import test_keypair as keypair
from opsdesk_shared.mongo import connect

pytestmark = pytest.mark.integration


@pytest.fixture
def database() -> str:
    return f"t_identity_cli_{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def db(database_url: str, database: str) -> AsyncIterator[Any]:
    client = connect(database_url)
    yield client[database]
    await client.drop_database(database)
    await client.close()


def _command_env(database_url: str, database: str) -> dict[str, str]:
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    base_env.update(MONGODB_URL=database_url, INTAKE_DATABASE=database)
    return base_env


@pytest.fixture
def admin(database_url: str, database: str, tmp_path: Path) -> Any:
    """`intake.admin`'s main() with its own environment, standard streams, working directory and event loop.

    In-process, in a thread of its own (main() runs asyncio.run), because starting Python and importing intake for
    each of some 25 commands cost minutes of the suite on two busy cores; the entry point itself is still run as a
    separate process by test_usage_errors_exit_2."""
    base_env = _command_env(database_url, database)

    def run(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        from intake import admin as command

        out, err = io.StringIO(), io.StringIO()
        outcome: dict[str, int] = {}

        def main() -> None:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    outcome["rc"] = command.main(list(args))
                except SystemExit as exc:  # argparse's usage errors
                    outcome["rc"] = exc.code if isinstance(exc.code, int) else 1

        root = logging.getLogger()
        saved_env, saved_handlers, saved_level, saved_stdin, saved_cwd = (
            dict(os.environ), root.handlers[:], root.level, sys.stdin, os.getcwd())
        os.environ.clear()
        os.environ.update({**base_env, **(env or {})})
        sys.stdin = io.StringIO(stdin)
        os.chdir(tmp_path)  # no stray .env
        try:
            worker = threading.Thread(target=main)
            worker.start()
            worker.join(timeout=60)
            assert not worker.is_alive(), f"intake.admin {args} did not finish in 60 s"
        finally:
            os.chdir(saved_cwd)
            sys.stdin = saved_stdin
            os.environ.clear()
            os.environ.update(saved_env)
            root.handlers[:] = saved_handlers
            root.setLevel(saved_level)
        return subprocess.CompletedProcess(["intake.admin", *args], outcome.get("rc", 1), out.getvalue(), err.getvalue())

    return run


@pytest.fixture
def admin_process(database_url: str, database: str, tmp_path: Path) -> Any:
    """The same command as a separate process: the real `python -m intake.admin` entry point."""
    base_env = _command_env(database_url, database)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "intake.admin", *args], capture_output=True, text=True,
                              env=base_env, cwd=tmp_path, timeout=60)

    return run


async def test_create_user_with_password_from_stdin_then_list(admin: Any, db: Any) -> None:
    created = admin(
        "create-user", "--username", "Wang", "--role", "agent", "--department", "辦公室", "--name", "王小明", "--password-stdin",
        stdin="first-password\n",
    )

    assert created.returncode == 0, created.stderr
    user = await MongoUserStore(db).get("wang")
    assert user is not None
    assert (user.name, user.role, user.department) == ("王小明", "agent", "辦公室")
    assert Passwords().verify(user.password_hash, "first-password")
    assert "first-password" not in created.stdout + created.stderr

    again = admin("create-user", "--username", "wang", "--role", "admin", "--name", "冒名")
    assert again.returncode == 1 and "exists" in again.stderr

    short = admin("create-user", "--username", "li", "--role", "agent", "--name", "李四", "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "8 to 128" in short.stderr
    assert await MongoUserStore(db).get("li") is None

    listed = admin("list-users")
    assert listed.returncode == 0
    assert listed.stdout.splitlines() == [
        "username\trole\tdepartment\tname\tdisabled\thas_password\tengineer_id", "wang\tagent\t辦公室\t王小明\tFalse\tTrue\t",
    ]
    events = [json.loads(line) for line in created.stderr.splitlines() if line.startswith("{")]
    assert [(e["security_event"], e["by"], e["username"]) for e in events] == [("user_created", "cli", "wang")]


async def test_keys_are_created_rotated_and_revoked_and_the_service_sees_it(admin: Any, db: Any) -> None:
    identity = Identity.build(users=MongoUserStore(db), keys=MongoApiKeyStore(db), jwt_secret="x" * 32, cache_s=0)

    async def role_of(secret: str) -> str:
        req = Request({"type": "http", "headers": [(b"authorization", f"Bearer {secret}".encode())]})
        try:
            return (await identity.authenticator.principal(req)).role
        except Exception as exc:
            return str(getattr(exc, "detail", exc))

    created = admin("create-key", "--name", "billing-system", "--role", "agent")
    assert created.returncode == 0, created.stderr
    first = created.stdout.strip()
    assert first.startswith("odk_billing-system_")
    assert (await MongoApiKeyStore(db).by_hash(key_hash(first))) is not None
    assert await role_of(first) == "agent"
    assert admin("create-key", "--name", "billing-system", "--role", "agent").returncode == 1

    rotated = admin("rotate-key", "--name", "billing-system")
    assert rotated.returncode == 0, rotated.stderr
    second = rotated.stdout.strip()
    assert await role_of(first) == "API key revoked"
    assert await role_of(second) == "agent"

    graceful = admin("rotate-key", "--name", "billing-system", "--grace-seconds", "3600")
    third = graceful.stdout.strip()
    assert await role_of(second) == "agent"  # still inside its grace
    assert await role_of(third) == "agent"
    assert admin("rotate-key", "--name", "billing-system", "--grace-seconds", "999999").returncode == 1

    revoked = admin("revoke-key", "--name", "billing-system")
    assert revoked.returncode == 0, revoked.stderr
    assert "2 secret(s)" in revoked.stderr
    assert await role_of(second) == await role_of(third) == "API key revoked"
    assert admin("revoke-key", "--name", "nobody").returncode == 1

    listed = admin("list-keys")
    assert listed.stdout.splitlines()[1].startswith("billing-system\tagent\t")
    assert first not in listed.stdout and third not in listed.stdout


async def test_import_requesters_reports_bad_rows_and_dry_run_writes_nothing(admin: Any, db: Any, tmp_path: Path) -> None:
    csv_file = tmp_path / "requesters.csv"
    csv_file.write_bytes(
        "\ufeffusername,name,department,email,phone\r\n"
        "wang,王小明,辦公室,wang@example.org,020-12345678\r\n"
        "bad name,壞,辦公室,,\r\n"
        "li,李四,財務科,,\r\n"
        "WANG,重複,辦公室,,\r\n".encode()
    )

    dry = admin("import-requesters", str(csv_file), "--dry-run")

    assert dry.returncode == 1
    assert "row 3:" in dry.stderr and "row 5: username wang repeats row 2" in dry.stderr
    assert "would create 2 requester(s)" in dry.stderr
    assert await MongoUserStore(db).list() == []

    real = admin("import-requesters", str(csv_file))

    assert real.returncode == 1
    assert "created 2 requester(s), skipped 0 existing, 2 bad row(s)" in real.stderr
    stored = await MongoUserStore(db).list()
    assert [(u.username, u.role, u.department, u.password_hash) for u in stored] == [
        ("li", "requester", "財務科", None),
        ("wang", "requester", "辦公室", None),
    ]

    csv_file.write_bytes("username,name,department,email,phone\nwang,王小明,辦公室,,\nzhao,趙六,辦公室,,\n".encode())
    again = admin("import-requesters", str(csv_file))
    assert again.returncode == 0, again.stderr
    assert "created 1 requester(s), skipped 1 existing, 0 bad row(s)" in again.stderr

    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("username,name,department\nwang,王小明,辦公室\n".encode("gbk"))
    rejected = admin("import-requesters", str(gbk))
    assert rejected.returncode == 1 and "not UTF-8" in rejected.stderr


async def test_set_password_lets_an_imported_requester_log_in(admin: Any, db: Any) -> None:
    assert admin("create-user", "--username", "zhao", "--role", "requester", "--name", "趙六", "--department", "辦公室").returncode == 0
    assert (await MongoUserStore(db).get("zhao")).password_hash is None  # type: ignore[union-attr]

    done = admin("set-password", "--username", "zhao", "--password-stdin", stdin="zhao-password-1\n")

    assert done.returncode == 0, done.stderr
    user = await MongoUserStore(db).get("zhao")
    assert user is not None and Passwords().verify(user.password_hash, "zhao-password-1")
    assert user.tokens_valid_after is not None
    assert admin("set-password", "--username", "nobody", "--password-stdin", stdin="whatever-123\n").returncode == 1


def test_usage_errors_exit_2(admin: Any, admin_process: Any) -> None:
    assert admin("create-key", "--name", "x", "--role", "superuser").returncode == 2
    assert admin().returncode == 2
    # The entry point as operators run it, a process of its own: usage errors and a real command against the database.
    assert admin_process().returncode == 2
    listed = admin_process("list-users")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].startswith("username\trole")


@pytest.fixture
def dispatch() -> Iterator[tuple[str, list[str]]]:
    """A stand-in for dispatch's roster on a real port: eng-7 exists; it answers only tokens signed for dispatch."""
    verifier = TokenVerifier(keypair()[1], audience="dispatch")
    callers: list[str] = []

    class Roster(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            try:
                caller = verifier.verify(self.headers.get("Authorization", "").removeprefix("Bearer "))
            except InvalidInternalToken:
                self.send_response(401)
                self.end_headers()
                return
            callers.append(caller.subject)
            self.send_response(200 if self.path == "/api/v1/engineers/eng-7" else 404)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Roster)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", callers
    server.shutdown()


async def test_an_engineer_is_linked_only_to_an_engineer_dispatch_knows(admin: Any, db: Any, dispatch: tuple[str, list[str]]) -> None:
    url, callers = dispatch
    env = {"INTAKE_DISPATCH_URL": url, "INTAKE_INTERNAL_SIGNING_KEY": keypair()[0]}
    engineer = ("create-user", "--username", "chen", "--role", "engineer", "--name", "陳工")

    unlinked = admin(*engineer, env=env)
    unknown = admin(*engineer, "--engineer-id", "eng-404", env=env)
    no_dispatch = admin(*engineer, "--engineer-id", "eng-7")
    linked = admin(*engineer, "--engineer-id", "eng-7", env=env)

    assert unlinked.returncode == 1 and "engineer_id" in unlinked.stderr
    assert unknown.returncode == 1 and "no engineer eng-404 on the roster" in unknown.stderr
    assert no_dispatch.returncode == 1 and "INTAKE_DISPATCH_URL" in no_dispatch.stderr
    assert linked.returncode == 0, linked.stderr
    assert (await MongoUserStore(db).get("chen")).engineer_id == "eng-7"  # type: ignore[union-attr]
    assert set(callers) == {"service:intake"}  # asked as intake itself

    moved = admin("update-user", "--username", "chen", "--role", "agent", "--engineer-id", "", env=env)
    assert moved.returncode == 0, moved.stderr
    assert (await MongoUserStore(db).get("chen")).engineer_id is None  # type: ignore[union-attr]
