"""The whole system on one machine: NATS, the database and every service, started and stopped together."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .infra import Database, InfraError, Nats, start_database, start_nats
from .services import SERVICES, ServiceProcess, pick_port, service_env

UPSTREAM_KEYS = {"assets": "ASSETS", "dispatch": "DISPATCH", "sla-monitor": "SLA", "reporting": "REPORTING", "knowledge": "KNOWLEDGE"}
DEMO_ENV = {"DISPATCH_SEED_DEMO": "true", "ASSETS_SEED_DEMO": "true", "KNOWLEDGE_SEED_DEMO": "true"}


@dataclass
class Stack:
    var_dir: Path
    fixed_ports: bool = False
    nats_port: int | None = None
    db_port: int | None = None
    prefix_to: IO[str] | None = None
    extra_env: Mapping[str, str] = field(default_factory=dict)
    token: str = ""
    nats: Nats | None = None
    database: Database | None = None
    services: dict[str, ServiceProcess] = field(default_factory=dict)

    def token_file(self) -> Path:
        return self.var_dir / "dev-token"

    def _load_or_make_token(self, path: Path | None = None) -> str:
        path = path or self.token_file()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        token = secrets.token_urlsafe(32)
        path.write_text(token + "\n")
        path.chmod(0o600)
        return token

    def start_infra(self) -> None:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        (self.var_dir / "logs").mkdir(exist_ok=True)
        self.nats = start_nats(self.var_dir / "nats", port=self.nats_port, log=self.var_dir / "logs" / "nats.log")
        self.database = start_database(self.var_dir / "ferretdb", port=self.db_port, log=self.var_dir / "logs" / "database.log")

    def service(self, name: str) -> ServiceProcess:
        assert self.nats is not None and self.database is not None, "start_infra first"
        if name not in self.services:
            port = pick_port(name, self.fixed_ports)
            extra = {**DEMO_ENV, "INTAKE_BOOTSTRAP_TOKEN": self.token, **self.gateway_env(name), **self.extra_env}
            env = service_env(name, port=port, nats_url=self.nats.url, mongodb_url=self.database.url, extra=extra)
            self.services[name] = ServiceProcess(
                name, port, env, log=None if self.prefix_to else self.var_dir / "logs" / f"{name}.log", prefix_to=self.prefix_to
            )
        return self.services[name]

    def gateway_env(self, name: str) -> dict[str, str]:
        """The gateway routes to every other service and signs tokens with a secret kept beside the dev token."""
        if name != "intake":
            return {}
        env = {f"INTAKE_{key}_URL": self.service(other).url for other, key in UPSTREAM_KEYS.items() if other in SERVICES}
        env["INTAKE_JWT_SECRET"] = self._load_or_make_token(self.var_dir / "dev-jwt-secret")
        return env

    def start(self, names: tuple[str, ...] = tuple(SERVICES), *, ready_timeout: float = 30.0) -> None:
        self.token = self.token or self._load_or_make_token()
        try:
            if self.nats is None:
                self.start_infra()
            for name in names:
                self.service(name).start()
            for name in names:
                self.service(name).wait_ready(ready_timeout)
        except BaseException:
            self.stop()
            raise

    def restart(self, name: str) -> None:
        svc = self.service(name)
        svc.stop()
        svc.start()
        svc.wait_ready()

    def stop(self) -> None:
        for svc in reversed(list(self.services.values())):
            svc.stop()
        if self.database:
            self.database.stop()
        if self.nats:
            self.nats.process.stop()

    @property
    def gateway(self) -> str:
        return self.service("intake").url


__all__ = ["InfraError", "Stack"]
