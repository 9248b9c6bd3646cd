#!/usr/bin/env python3
"""Make (or rotate) every secret the compose stack and the Kubernetes Secrets need, one value per file.

    .venv/bin/python scripts/make-secrets.py                         # create what is missing, keep the rest
    .venv/bin/python scripts/make-secrets.py --rotate intake/jwt-secret dispatch/nats-password
    .venv/bin/python scripts/make-secrets.py --rotate all            # everything new (then restart everything)

Values live in `deploy/secrets/<owner>/<name>` (the directory ignores itself in git and is readable by its owner
only). Each value is written once and kept, so re-running never changes a running system by surprise; `--rotate`
names the values to replace. After every run the files compose reads are rendered again from those values:

- `compose/<service>.env`: the one service's own environment (`env_file:` in docker-compose.yml). A service sees
  its own NATS and MongoDB credentials, the gateway's public key and the scrape token; only intake sees the signing
  key, the JWT secret and the bootstrap token.
- `compose/console.env`: the web console's: only the secret sealing its session cookies (it has no NATS user, no
  database and no /metrics; it is a client of the gateway's public API).
- `compose/nats.env`: the NATS server's environment: deploy/nats/nats-server.conf reads each user's password from
  `NATS_PASSWORD_<USER>` (the six services, and `observer`, a read-only user for operators' tools).
- `compose/mongo.env`: the MongoDB container's first-start environment: the root password file and each service's
  password for the user-creation script.

Kubernetes reads the same files through `kubectl create secret generic ... --from-file=<key>=deploy/secrets/...`
(the commands are in deploy/README.md).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "shared"))  # run from a checkout without installing the shared package

from opsdesk_shared.internal_auth import generate_keypair, public_key_of  # noqa: E402

# service -> its env prefix and its database (the settings' `opsdesk_<service_name>` default).
SERVICES: dict[str, tuple[str, str]] = {
    "intake": ("INTAKE_", "opsdesk_intake"),
    "dispatch": ("DISPATCH_", "opsdesk_dispatch"),
    "sla-monitor": ("SLA_", "opsdesk_sla_monitor"),
    "assets": ("ASSETS_", "opsdesk_assets"),
    "reporting": ("REPORTING_", "opsdesk_reporting"),
    "knowledge": ("KNOWLEDGE_", "opsdesk_knowledge"),
}
# Clients of the gateway's public API only (no NATS user, no database, no internal key): their own secrets.
API_CLIENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "console": ("CONSOLE_", ("session-secret",)),
}
MONGO_HOSTPORT = "mongo:27017"
# Each service's MongoDB user lives in `admin` (deploy/mongo/) with readWrite on its own database only.
MONGO_AUTH_SOURCE = "admin"
# NATS users besides the services (shared/opsdesk_shared/bus_permissions.py): a read-only observer.
NATS_EXTRA_USERS = ("observer",)


def token() -> str:
    """64 hex characters: above every >= 32 character rule, and safe inside a URL without escaping."""
    return secrets.token_hex(32)


def password() -> str:
    return secrets.token_hex(24)


def random_values() -> dict[str, Callable[[], str]]:
    """Every independent value by its path under the secrets directory."""
    values: dict[str, Callable[[], str]] = {
        "shared/metrics-token": token,
        "shared/audit-key": token,
        "intake/bootstrap-token": token,
        "intake/jwt-secret": token,
        "intake/internal-signing-key": lambda: generate_keypair()[0],
        "grafana/admin-password": password,
        "mongo/root-password": password,
    }
    for user in NATS_EXTRA_USERS:
        values[f"nats/{user}-password"] = password
    for service in SERVICES:
        values[f"{service}/nats-password"] = password
        values[f"{service}/mongodb-password"] = password
    for client, (_prefix, names) in API_CLIENTS.items():
        for name in names:
            values[f"{client}/{name}"] = token
    return values


def env_name(user: str) -> str:
    """`sla-monitor` -> `SLA_MONITOR`: the variable stem the NATS config and the Mongo script use per user."""
    return user.upper().replace("-", "_")


def mongodb_url(service: str, pw: str) -> str:
    database = SERVICES[service][1]
    return f"mongodb://{service}:{pw}@{MONGO_HOSTPORT}/{database}?authSource={MONGO_AUTH_SOURCE}"


def dotenv_quote(value: str) -> str:
    """A double-quoted dotenv value (Compose's env_file syntax): newlines as \\n, so a PEM fits on one line."""
    if "$" in value:
        raise ValueError("a generated secret must not contain '$' (Compose would interpolate it)")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def render_env(pairs: Iterable[tuple[str, str]], *, about: str) -> str:
    lines = [f"# {about}", "# Generated by scripts/make-secrets.py from deploy/secrets/*/; edit the values there, not here."]
    lines += [f"{key}={dotenv_quote(value)}" for key, value in pairs]
    return "\n".join(lines) + "\n"


def service_env(service: str, read: Callable[[str], str]) -> list[tuple[str, str]]:
    pairs = [
        # The NATS user is the service's name (the settings' default for NATS_USER).
        ("NATS_PASSWORD", read(f"{service}/nats-password")),
        ("MONGODB_URL", mongodb_url(service, read(f"{service}/mongodb-password"))),
        ("OPSDESK_INTERNAL_PUBLIC_KEY", read("shared/internal-public-key")),
        ("OPSDESK_METRICS_TOKEN", read("shared/metrics-token")),
        ("OPSDESK_AUDIT_KEY", read("shared/audit-key")),
    ]
    if service == "intake":
        pairs += [
            ("INTAKE_INTERNAL_SIGNING_KEY", read("intake/internal-signing-key")),
            ("INTAKE_BOOTSTRAP_TOKEN", read("intake/bootstrap-token")),
            ("INTAKE_JWT_SECRET", read("intake/jwt-secret")),
        ]
    return pairs


def api_client_env(client: str, read: Callable[[str], str]) -> list[tuple[str, str]]:
    """`console/session-secret` -> CONSOLE_SESSION_SECRET: nothing but the client's own values."""
    prefix, names = API_CLIENTS[client]
    return [(prefix + env_name(name), read(f"{client}/{name}")) for name in names]


def write_private(path: Path, text: str, *, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def make(out: Path, rotate: set[str]) -> list[str]:
    """Create missing values, replace the rotated ones, render the compose files; returns what changed."""
    values = random_values()
    unknown = rotate - set(values) - {"all", "shared/internal-public-key"}
    if unknown:
        raise SystemExit(f"unknown secret(s) {sorted(unknown)}; known: all, {', '.join(sorted(values))}")
    if "shared/internal-public-key" in rotate:
        rotate = rotate | {"intake/internal-signing-key"}  # the public half only changes with its private key
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)
    # The directory keeps itself out of git wherever it is created.
    (out / ".gitignore").write_text("# generated secrets: never commit\n*\n")
    changed = []
    for name, generate in values.items():
        path = out / name
        if path.exists() and "all" not in rotate and name not in rotate:
            continue
        # 0644 on files inside a 0700 directory: other host users cannot reach them, and a container that runs as
        # another uid (Prometheus, Grafana) can still read the one file bind-mounted into it as a compose secret.
        write_private(path, generate(), mode=0o644)
        changed.append(name)

    def read(name: str) -> str:
        return (out / name).read_text()

    write_private(out / "shared/internal-public-key", public_key_of(read("intake/internal-signing-key")), mode=0o644)
    for service in SERVICES:
        text = render_env(service_env(service, read), about=f"Environment of the {service} service only.")
        write_private(out / "compose" / f"{service}.env", text, mode=0o600)
    for client in API_CLIENTS:
        text = render_env(api_client_env(client, read), about=f"Environment of the {client} only (no NATS, no database).")
        write_private(out / "compose" / f"{client}.env", text, mode=0o600)
    nats = [(f"NATS_PASSWORD_{env_name(s)}", read(f"{s}/nats-password")) for s in SERVICES]
    nats += [(f"NATS_PASSWORD_{env_name(u)}", read(f"nats/{u}-password")) for u in NATS_EXTRA_USERS]
    write_private(out / "compose/nats.env", render_env(nats, about="The NATS server's view: one password per service user."), mode=0o600)
    mongo = [(f"{env_name(s)}_MONGODB_PASSWORD", read(f"{s}/mongodb-password")) for s in SERVICES]
    write_private(
        out / "compose/mongo.env",
        render_env(mongo, about="MongoDB's first start: deploy/mongo/ creates one user per service with these."),
        mode=0o600,
    )
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "deploy" / "secrets", help="where the values live")
    parser.add_argument("--rotate", nargs="+", default=[], metavar="NAME", help="values to replace, e.g. intake/jwt-secret, or all")
    args = parser.parse_args(argv)
    changed = make(args.out, set(args.rotate))
    print(f"{args.out}: {len(changed)} new value(s): {', '.join(changed) or 'none'}")
    if changed:
        print("Restart what reads them (see deploy/README.md, 'Rotating secrets').")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
