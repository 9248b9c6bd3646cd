"""Every Opsdesk service as its own process, with its environment and readiness wait."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from .infra import InfraError, Process, free_port, spawn

# name -> (module, env prefix, default port in `make run`)
SERVICES: dict[str, tuple[str, str, int]] = {
    "intake": ("intake", "INTAKE_", 8000),
    "dispatch": ("dispatch", "DISPATCH_", 8001),
    "sla-monitor": ("sla_monitor", "SLA_", 8002),
    "assets": ("assets", "ASSETS_", 8003),
    "reporting": ("reporting", "REPORTING_", 8004),
    "knowledge": ("knowledge", "KNOWLEDGE_", 8005),
    # The web console: no bus and no database, only the gateway's public API (the gateway proxies its pages).
    "console": ("console", "CONSOLE_", 8006),
}
# Services that use neither NATS nor the database (given no credentials for them).
API_CLIENTS = frozenset({"console"})


def _pump(stream: IO[bytes], prefix: str, sink: IO[str]) -> None:
    for line in iter(stream.readline, b""):
        sink.write(f"{prefix} {line.decode(errors='replace').rstrip()}\n")
        sink.flush()


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log: Path | None = None
    prefix_to: IO[str] | None = None
    process: Process | None = field(default=None)
    # The inherited environment; None means this process's own (the Stack passes one without any secret).
    base_env: Mapping[str, str] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        module = SERVICES[self.name][0]
        env = {**(os.environ if self.base_env is None else self.base_env), **self.env}
        if self.prefix_to is not None:
            proc = subprocess.Popen([sys.executable, "-m", module], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
            assert proc.stdout is not None
            threading.Thread(target=_pump, args=(proc.stdout, f"[{self.name:<11}]", self.prefix_to), daemon=True).start()
        else:
            proc = spawn([sys.executable, "-m", module], log=self.log, env=env)
        self.process = Process(self.name, proc, self.log)

    def wait_ready(self, timeout: float = 30.0) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.process.proc.poll() is not None:
                tail = self.log.read_text(errors="replace")[-3000:] if self.log and self.log.exists() else ""
                raise InfraError(f"service {self.name} exited with code {self.process.proc.returncode}\n{tail}")
            try:
                r = httpx.get(f"{self.url}/readyz", timeout=1.0)
                if r.status_code == 200:
                    return
                last = r.text
            except httpx.HTTPError as exc:
                last = str(exc)
            time.sleep(0.1)
        raise InfraError(f"service {self.name} not ready on {self.url} within {timeout:.0f}s: {last}")

    def stop(self) -> None:
        if self.process:
            self.process.stop()

    def kill(self) -> None:
        if self.process:
            self.process.kill()


def service_env(name: str, *, port: int, nats_url: str, mongodb_url: str, database: str | None = None, extra: Mapping[str, str] = ()) -> dict[str, str]:  # type: ignore[assignment]
    prefix = SERVICES[name][1]
    env = {
        "NATS_URL": nats_url,
        "MONGODB_URL": mongodb_url,
        f"{prefix}PORT": str(port),
        f"{prefix}HOST": "127.0.0.1",
    }
    if database:
        env[f"{prefix}DATABASE"] = database
    env.update(dict(extra))
    return env


def pick_port(name: str, fixed: bool) -> int:
    return SERVICES[name][2] if fixed else free_port()
