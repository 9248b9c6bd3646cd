"""The whole system on one machine: NATS, the database and every service, started and stopped together.

Secrets are made once into `var/` (each file 0600) and reused by the next start: the bootstrap admin token
(`dev-token`), the user-token secret (`dev-jwt-secret`), the gateway's Ed25519 key pair (`internal-signing-key.pem`,
`internal-public-key.pem`), the metrics scrape token (`metrics-token`), the NATS passwords (`nats-passwords.json`)
and the database passwords (`db-passwords.json`). Each service process is given only its own: every service the
public key, the scrape token and its own NATS and database users; intake alone the signing key, the bootstrap
token and the JWT secret.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from opsdesk_shared.bus_permissions import OBSERVER
from opsdesk_shared.bus_permissions import SERVICES as BUS_SERVICES
from opsdesk_shared.internal_auth import Caller, generate_keypair
from opsdesk_shared.internal_auth_testing import InternalTokenAuth

from .infra import DB_ADMIN, Database, InfraError, Nats, start_database, start_nats
from .natsconf import load_or_make_passwords, write_secret
from .services import API_CLIENTS, SERVICES, ServiceProcess, pick_port, service_env

UPSTREAM_KEYS = {
    "assets": "ASSETS", "dispatch": "DISPATCH", "sla-monitor": "SLA", "reporting": "REPORTING", "knowledge": "KNOWLEDGE",
    "console": "CONSOLE",
}
# Test stacks run at any hour: the demo engineers are on site around the clock (make run uses the contract's rota).
DEMO_ENV = {"DISPATCH_SEED_DEMO": "true", "DISPATCH_DEMO_ROTA": "always", "ASSETS_SEED_DEMO": "true", "KNOWLEDGE_SEED_DEMO": "true"}
# Never inherited from the shell (or the test process) that starts the stack: a service gets these only as the
# stack decides, so one service's secret cannot reach another through the environment.
WITHHELD_ENV = frozenset({
    "NATS_URL", "NATS_USER", "NATS_PASSWORD", "MONGODB_URL", "OPSDESK_INTERNAL_PUBLIC_KEY", "OPSDESK_METRICS_TOKEN", "OPSDESK_AUDIT_KEY",
    "OPSDESK_TEST_INTERNAL_PRIVATE_KEY", "INTAKE_INTERNAL_SIGNING_KEY", "INTAKE_BOOTSTRAP_TOKEN", "INTAKE_JWT_SECRET",
})


def _load_or_make(path: Path, make: str) -> str:
    if path.exists() and path.read_text().strip():
        return path.read_text().strip()
    write_secret(path, make + "\n")
    return make


@dataclass
class Stack:
    var_dir: Path
    fixed_ports: bool = False
    nats_port: int | None = None
    db_port: int | None = None
    prefix_to: IO[str] | None = None
    extra_env: Mapping[str, str] = field(default_factory=dict)
    token: str = ""
    metrics_token: str = ""
    audit_key: str = field(default="", repr=False)
    internal_public_key: str = ""
    nats: Nats | None = None
    database: Database | None = None
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    _signing_key: str = field(default="", repr=False)
    _ports: dict[str, int] = field(default_factory=dict, repr=False)

    def token_file(self) -> Path:
        return self.var_dir / "dev-token"

    def secret_files(self) -> dict[str, Path]:
        """Where each credential lives, for the `make run` banner and the README."""
        v = self.var_dir
        return {
            "admin API token": v / "dev-token", "user-token secret": v / "dev-jwt-secret",
            "internal signing key": v / "internal-signing-key.pem", "internal public key": v / "internal-public-key.pem",
            "metrics scrape token": v / "metrics-token", "audit trail key": v / "audit-key", "NATS passwords": v / "nats-passwords.json",
            "database passwords": v / "db-passwords.json", "NATS config": v / "nats.conf",
        }

    def make_secrets(self) -> None:
        """Load the stack's secrets from `var/`, making each one the first time."""
        self.var_dir.mkdir(parents=True, exist_ok=True)
        files = self.secret_files()
        self.token = self.token or _load_or_make(files["admin API token"], secrets.token_urlsafe(32))
        self.metrics_token = _load_or_make(files["metrics scrape token"], secrets.token_urlsafe(32))
        self.audit_key = _load_or_make(files["audit trail key"], secrets.token_urlsafe(32))
        private_file, public_file = files["internal signing key"], files["internal public key"]
        if not (private_file.exists() and public_file.exists()):
            private, public = generate_keypair()
            write_secret(private_file, private)
            write_secret(public_file, public)
        self._signing_key = private_file.read_text()
        self.internal_public_key = public_file.read_text()

    def start_infra(self) -> None:
        self.make_secrets()
        (self.var_dir / "logs").mkdir(exist_ok=True)
        files = self.secret_files()
        nats_passwords = load_or_make_passwords(files["NATS passwords"], [*BUS_SERVICES, OBSERVER])
        db_passwords = load_or_make_passwords(files["database passwords"], [DB_ADMIN, *BUS_SERVICES])
        self.nats = start_nats(self.var_dir / "nats", passwords=nats_passwords, port=self.nats_port,
                               log=self.var_dir / "logs" / "nats.log", config=files["NATS config"])
        try:
            self.database = start_database(self.var_dir / "ferretdb", port=self.db_port, log=self.var_dir / "logs" / "database.log",
                                           passwords=db_passwords)
        except BaseException:
            self.nats.process.stop()
            raise

    def service(self, name: str) -> ServiceProcess:
        assert self.nats is not None and self.database is not None, "start_infra first"
        if name not in self.services and name in API_CLIENTS:
            self.services[name] = ServiceProcess(
                name, self.port_of(name), self.api_client_env(name), log=None if self.prefix_to else self.var_dir / "logs" / f"{name}.log",
                prefix_to=self.prefix_to, base_env={k: v for k, v in os.environ.items() if k not in WITHHELD_ENV},
            )
        if name not in self.services:
            port = self.port_of(name)
            extra = {**DEMO_ENV, **self.secrets_env(name), **self.gateway_env(name), **self.extra_env}
            env = service_env(name, port=port, nats_url=self.nats.url, mongodb_url=self.database.url_for(name), extra=extra)
            self.services[name] = ServiceProcess(
                name, port, env, log=None if self.prefix_to else self.var_dir / "logs" / f"{name}.log", prefix_to=self.prefix_to,
                base_env={k: v for k, v in os.environ.items() if k not in WITHHELD_ENV},
            )
        return self.services[name]

    def port_of(self, name: str) -> int:
        """Each service's port, picked once (the gateway and the console name each other before either starts)."""
        if name not in self._ports:
            self._ports[name] = pick_port(name, self.fixed_ports)
        return self._ports[name]

    def api_client_env(self, name: str) -> dict[str, str]:
        """The console's: its port, the gateway's URL and the secret sealing its session cookies; no NATS, no database."""
        prefix = SERVICES[name][1]
        return {
            f"{prefix}PORT": str(self.port_of(name)), f"{prefix}HOST": "127.0.0.1",
            f"{prefix}GATEWAY_URL": f"http://127.0.0.1:{self.port_of('intake')}",
            f"{prefix}SESSION_SECRET": _load_or_make(self.var_dir / f"{name}-session-secret", secrets.token_urlsafe(32)),
            **self.extra_env,
        }

    def secrets_env(self, name: str) -> dict[str, str]:
        """What every service is given: the gateway's public key, the scrape token, the audit trail's key and its own NATS user."""
        assert self.nats is not None
        env = {"OPSDESK_INTERNAL_PUBLIC_KEY": self.internal_public_key, "OPSDESK_METRICS_TOKEN": self.metrics_token,
               "OPSDESK_AUDIT_KEY": self.audit_key}
        env.update(self.nats.env_for(name))
        return env

    def gateway_env(self, name: str) -> dict[str, str]:
        """The gateway alone routes to every other service, signs internal tokens and holds the admin token."""
        if name != "intake":
            return {}
        env = {f"INTAKE_{key}_URL": self.service(other).url for other, key in UPSTREAM_KEYS.items() if other in SERVICES}
        env["INTAKE_JWT_SECRET"] = _load_or_make(self.secret_files()["user-token secret"], secrets.token_urlsafe(32))
        env["INTAKE_INTERNAL_SIGNING_KEY"] = self._signing_key
        env["INTAKE_BOOTSTRAP_TOKEN"] = self.token
        # The gateway's search index file, kept across restarts of this stack (intake/index_feed.py).
        env.setdefault("INTAKE_INDEX_PATH", str(self.var_dir / "intake-search.sqlite"))
        return env

    def internal_auth(self, audience: str, *, caller: Caller | None = None) -> InternalTokenAuth:
        """For tests that call a service directly: tokens signed with this stack's key, as the gateway would sign
        them (an admin unless `caller` or the request's X-Opsdesk-* test headers say otherwise)."""
        if not self._signing_key:
            self.make_secrets()
        return InternalTokenAuth(audience, private_pem=self._signing_key, default=caller)

    def start(self, names: tuple[str, ...] = tuple(SERVICES), *, ready_timeout: float = 30.0) -> None:
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

    def restart_nats(self) -> None:
        """Start NATS again on the same port, store and users (after a test stopped it to simulate an outage)."""
        assert self.nats is not None
        self.nats.process.stop()
        self.nats = start_nats(self.var_dir / "nats", passwords=self.nats.passwords, port=self.nats.port,
                               log=self.var_dir / "logs" / "nats-restarted.log", config=self.secret_files()["NATS config"])

    def observer_url(self) -> str:
        """NATS URL of the read-only observer: reads what reached JetStream, publishes nothing."""
        assert self.nats is not None
        return self.nats.url_for(OBSERVER)

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
