"""Offline checks that the deployment files keep the trust boundaries of issue 12 (finding 12).

- Compose: only the gateway (and Grafana, signed in) is published, on loopback; the rest sit on internal networks.
  Each service reads only its own env file, and the generator writes exactly that service's secrets into it.
- Kubernetes: every secret a Deployment references exists in the example Secrets and in the README's
  `kubectl create secret` commands; a pod references only its own Secret and the shared one; the NetworkPolicies,
  evaluated here with Kubernetes' own rules, let only the gateway reach the services and only the services reach
  NATS and MongoDB.
- Grafana requires sign-in; Prometheus sends the scrape token.
"""

from __future__ import annotations

import copy
import functools
import importlib
import importlib.util
import os
import re
import shlex
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from dotenv import dotenv_values

from opsdesk_shared.internal_auth import public_key_of

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
K8S_DIR = REPO / "deploy" / "k8s"
README = REPO / "deploy" / "README.md"
PROMETHEUS_FILE = REPO / "deploy" / "prometheus.yml"
MAKE_SECRETS = REPO / "scripts" / "make-secrets.py"

# service -> (settings module, settings class, port)
SERVICES: dict[str, tuple[str, str, int]] = {
    "intake": ("intake.settings", "IntakeSettings", 8000),
    "dispatch": ("dispatch.settings", "DispatchSettings", 8001),
    "sla-monitor": ("sla_monitor.settings", "SlaSettings", 8002),
    "assets": ("assets.settings", "AssetsSettings", 8003),
    "reporting": ("reporting.settings", "ReportingSettings", 8004),
    "knowledge": ("knowledge.settings", "KnowledgeSettings", 8005),
}
BACKENDS = [s for s in SERVICES if s != "intake"]
EVERY_SERVICE_ENV = {"NATS_PASSWORD", "MONGODB_URL", "OPSDESK_INTERNAL_PUBLIC_KEY", "OPSDESK_METRICS_TOKEN", "OPSDESK_AUDIT_KEY"}
GATEWAY_ONLY_ENV = {"INTAKE_INTERNAL_SIGNING_KEY", "INTAKE_BOOTSTRAP_TOKEN", "INTAKE_JWT_SECRET"}
GATEWAY_ONLY_KEYS = {"internal-signing-key", "jwt-secret", "bootstrap-token"}
LOOPBACK = "127.0.0.1"
# The web console: a client of the gateway's public API; no NATS user, no database, no internal key, no /metrics.
CONSOLE = "console"
CONSOLE_PORT = 8006
CONSOLE_ENV = {"CONSOLE_SESSION_SECRET"}


def database_of(service: str) -> str:
    return "opsdesk_" + service.replace("-", "_")


# ----------------------------------------------------------------------------- loading


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return data


@functools.cache
def k8s_docs(pattern: str) -> list[dict[str, Any]]:
    docs = []
    for path in sorted(K8S_DIR.glob(pattern)):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    return docs


@functools.cache
def applied() -> list[dict[str, Any]]:
    return k8s_docs("*.yaml") + k8s_docs("*.yml")


def example_secrets() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for doc in k8s_docs("*.example"):
        if doc.get("kind") == "Secret":
            out[doc["metadata"]["name"]] = set(doc.get("stringData") or {}) | set(doc.get("data") or {})
    return out


@functools.cache
def deployments() -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in applied() if d["kind"] == "Deployment"}


def containers(name: str) -> list[dict[str, Any]]:
    spec = deployments()[name]["spec"]["template"]["spec"]
    return list(spec.get("containers", [])) + list(spec.get("initContainers", []))


def secret_refs(name: str) -> set[tuple[str, str | None]]:
    """(secret, key) for every secretKeyRef; (secret, None) for a whole secretRef/secret volume."""
    refs: set[tuple[str, str | None]] = set()
    for c in containers(name):
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                refs.add((ref["name"], ref["key"]))
        for e in c.get("envFrom", []):
            if "secretRef" in e:
                refs.add((e["secretRef"]["name"], None))
    for volume in deployments()[name]["spec"]["template"]["spec"].get("volumes", []):
        if "secret" in volume:
            items = volume["secret"].get("items")
            if items:
                refs |= {(volume["secret"]["secretName"], i["key"]) for i in items}
            else:
                refs.add((volume["secret"]["secretName"], None))
    return refs


def readme_secret_commands() -> dict[str, dict[str, str]]:
    """Secret name -> {key: source} for every `kubectl create secret generic` in deploy/README.md."""
    blocks = re.findall(r"^\s*```(?:sh|bash|console)\n(.*?)^\s*```", README.read_text(), re.M | re.S)
    text = re.sub(r"\\\n\s*", " ", "\n".join(blocks))
    found: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        if "kubectl" not in line or "create secret generic" not in line:
            continue
        words = shlex.split(line.strip().lstrip("$ "), comments=True)
        name = words[words.index("generic") + 1]
        keys: dict[str, str] = {}
        for word in words:
            for flag in ("--from-literal=", "--from-file="):
                if word.startswith(flag):
                    key, _, source = word[len(flag):].partition("=")
                    keys[key] = source
        assert name not in found, f"deploy/README.md creates Secret {name} twice"
        found[name] = keys
    return found


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("secrets") / "secrets"
    subprocess.run([sys.executable, str(MAKE_SECRETS), "--out", str(out)], check=True, capture_output=True, text=True)
    return out


def values(path: Path) -> dict[str, str]:
    """Parsed as a dotenv file (double-quoted values with \\n escapes, as Compose reads env_file)."""
    return {k: v or "" for k, v in dotenv_values(path).items()}


# ----------------------------------------------------------------------------- the generator


def test_generator_writes_each_service_only_its_own_secrets(generated: Path) -> None:
    for service in SERVICES:
        env = values(generated / "compose" / f"{service}.env")
        expected = EVERY_SERVICE_ENV | (GATEWAY_ONLY_ENV if service == "intake" else set())
        assert set(env) == expected, f"{service}: {sorted(env)}"
        assert env["NATS_PASSWORD"] == (generated / service / "nats-password").read_text()
        db = database_of(service)
        assert env["MONGODB_URL"] == (
            f"mongodb://{service}:{(generated / service / 'mongodb-password').read_text()}@mongo:27017/{db}?authSource=admin"
        )
    passwords = [(generated / s / kind).read_text() for s in SERVICES for kind in ("nats-password", "mongodb-password")]
    assert len(set(passwords)) == len(passwords), "every service gets passwords of its own"


def test_generator_gives_the_console_its_session_secret_and_nothing_else(generated: Path) -> None:
    env = values(generated / "compose" / f"{CONSOLE}.env")
    assert set(env) == CONSOLE_ENV, sorted(env)
    assert env["CONSOLE_SESSION_SECRET"] == (generated / CONSOLE / "session-secret").read_text()
    assert len(env["CONSOLE_SESSION_SECRET"]) >= 32
    others = {v for s in SERVICES for v in values(generated / "compose" / f"{s}.env").values()}
    assert env["CONSOLE_SESSION_SECRET"] not in others, "the console's secret is its own"
    for service in SERVICES:
        assert not set(values(generated / "compose" / f"{service}.env")) & CONSOLE_ENV, service


def test_the_console_starts_in_production_with_its_generated_env(generated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from console.settings import ConsoleSettings

    monkeypatch.chdir(generated)
    for variable in list(os.environ):
        if variable.startswith(("CONSOLE_", "OPSDESK_", "NATS_", "MONGODB_")):
            monkeypatch.delenv(variable)
    with pytest.raises(ValueError, match="CONSOLE_SESSION_SECRET"):
        ConsoleSettings(environment="production")
    for variable, value in values(generated / "compose" / f"{CONSOLE}.env").items():
        monkeypatch.setenv(variable, value)
    assert ConsoleSettings(environment="production").session_secret == (generated / CONSOLE / "session-secret").read_text()


def test_generated_keys_pair_up_and_tokens_are_long(generated: Path) -> None:
    intake = values(generated / "compose" / "intake.env")
    key = serialization.load_pem_private_key(intake["INTAKE_INTERNAL_SIGNING_KEY"].encode(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    for service in SERVICES:
        env = values(generated / "compose" / f"{service}.env")
        assert env["OPSDESK_INTERNAL_PUBLIC_KEY"] == public_key_of(intake["INTAKE_INTERNAL_SIGNING_KEY"])
        assert env["OPSDESK_METRICS_TOKEN"] == (generated / "shared" / "metrics-token").read_text()
        assert len(env["OPSDESK_METRICS_TOKEN"]) >= 32
        assert env["OPSDESK_AUDIT_KEY"] == (generated / "shared" / "audit-key").read_text() and len(env["OPSDESK_AUDIT_KEY"]) >= 32
    assert len(intake["INTAKE_BOOTSTRAP_TOKEN"]) >= 32 and len(intake["INTAKE_JWT_SECRET"]) >= 32
    assert intake["INTAKE_BOOTSTRAP_TOKEN"] != intake["INTAKE_JWT_SECRET"]


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_starts_in_production_with_its_generated_env(
    generated: Path, service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The settings class itself (which refuses weak or missing secrets in production) accepts the generated env."""
    module, cls, _port = SERVICES[service]
    monkeypatch.chdir(generated)  # no stray .env file from the repository
    for variable in list(os.environ):
        if variable.startswith(("OPSDESK_", "NATS_", "MONGODB_", "INTAKE_", "DISPATCH_", "SLA_", "ASSETS_", "REPORTING_", "KNOWLEDGE_")):
            monkeypatch.delenv(variable)
    for variable, value in values(generated / "compose" / f"{service}.env").items():
        monkeypatch.setenv(variable, value)
    settings = getattr(importlib.import_module(module), cls)(environment="production")
    assert settings.database == database_of(service)
    assert settings.mongodb_url.startswith(f"mongodb://{service}:")
    assert settings.internal_public_key.startswith("-----BEGIN PUBLIC KEY-----")
    assert settings.nats_credentials() == (service, (generated / service / "nats-password").read_text())


def load_generator() -> Any:
    spec = importlib.util.spec_from_file_location("make_secrets", MAKE_SECRETS)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generator_keeps_values_and_rotates_only_what_it_is_told(tmp_path: Path) -> None:
    generator = load_generator()
    out = tmp_path / "s"

    def snapshot() -> dict[str, str]:
        return {str(p.relative_to(out)): p.read_text() for p in out.rglob("*") if p.is_file()}

    generator.make(out, set())
    before = snapshot()
    assert generator.make(out, set()) == [] and snapshot() == before
    rotated = generator.make(out, {"intake/internal-signing-key", "dispatch/nats-password"})
    assert sorted(rotated) == ["dispatch/nats-password", "intake/internal-signing-key"]
    after = snapshot()
    changed = {p for p in before if before[p] != after[p]}
    env_files = {f"compose/{s}.env" for s in SERVICES}  # every service gets the new public key
    assert changed == {"intake/internal-signing-key", "shared/internal-public-key", "dispatch/nats-password",
                       "compose/nats.env"} | env_files
    with pytest.raises(SystemExit, match="unknown secret"):
        generator.make(out, {"no/such-secret"})
    generator.make(out, {"all"})
    assert all(before[p] != v for p, v in snapshot().items() if p != ".gitignore"), "`all` replaces every value"


def test_generated_files_are_private_and_ignored_by_git(generated: Path) -> None:
    assert stat.S_IMODE(generated.stat().st_mode) == 0o700
    for env_file in (generated / "compose").glob("*.env"):
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600, env_file.name
    assert (generated / ".gitignore").read_text().splitlines()[-1] == "*"


def test_compose_reads_only_files_the_generator_writes(compose: dict[str, Any], generated: Path) -> None:
    prefix = "./deploy/secrets/"
    paths = [str(s["file"]) for s in (compose.get("secrets") or {}).values()]
    for service in compose["services"].values():
        files = service.get("env_file") or []
        paths += [files] if isinstance(files, str) else [str(f["path"] if isinstance(f, dict) else f) for f in files]
    assert paths
    for path in paths:
        assert path.startswith(prefix), path
        assert (generated / path[len(prefix):]).is_file(), f"{path} is not written by scripts/make-secrets.py"


# ----------------------------------------------------------------------------- compose: who reaches what


def networks_of(service: dict[str, Any]) -> set[str]:
    nets = service.get("networks") or ["default"]
    return set(nets)


def published(service: dict[str, Any]) -> list[str]:
    return [str(p) for p in service.get("ports") or []]


def test_compose_publishes_only_the_gateway_and_grafana_on_loopback(compose: dict[str, Any]) -> None:
    publishing = {name: published(s) for name, s in compose["services"].items() if published(s)}
    assert publishing == {"intake": ["127.0.0.1:8000:8000"], "grafana": ["127.0.0.1:3000:3000"]}, publishing
    for name, service in compose["services"].items():
        assert not service.get("expose"), f"{name}: no extra exposed ports"
        assert service.get("network_mode") is None, f"{name}: must stay on the project's networks"


def test_compose_internal_networks_hold_everything_but_the_doors(compose: dict[str, Any]) -> None:
    declared = compose["networks"]
    internal = {n for n, spec in declared.items() if (spec or {}).get("internal") is True}
    for name, service in compose["services"].items():
        assert networks_of(service) <= set(declared), f"{name}: undeclared network {networks_of(service) - set(declared)}"
    open_members = {name for name, s in compose["services"].items() if networks_of(s) - internal}
    # intake and Grafana for their published port; sla-monitor and reporting send mail and webhooks out.
    assert open_members == {"intake", "grafana", "sla-monitor", "reporting"}, open_members
    for name in ("mongo", "nats", "dispatch", "assets", "knowledge", "prometheus", CONSOLE):
        assert networks_of(compose["services"][name]) <= internal, f"{name} must sit on internal networks only"
    # The infrastructure shares its network with the six services only.
    data_nets = networks_of(compose["services"]["nats"]) | networks_of(compose["services"]["mongo"])
    reach_infra = {n for n, s in compose["services"].items() if networks_of(s) & data_nets} - {"nats", "mongo"}
    assert reach_infra == set(SERVICES), f"NATS/MongoDB reachable from {sorted(reach_infra)}"
    # Grafana sees Prometheus only, not the services, NATS or the database.
    grafana_peers = {n for n, s in compose["services"].items() if networks_of(s) & networks_of(compose["services"]["grafana"])}
    assert grafana_peers == {"grafana", "prometheus"}, grafana_peers


def console_isolation_problems(compose: dict[str, Any]) -> list[str]:
    """Why the console would be reachable from anything but the gateway, or reach anything but the gateway."""
    services = compose["services"]
    console = services[CONSOLE]
    internal = {n for n, spec in (compose.get("networks") or {}).items() if (spec or {}).get("internal") is True}
    problems = []
    if console.get("ports"):
        problems.append(f"published: {console['ports']}")
    if console.get("expose"):
        problems.append(f"exposes {console['expose']}")
    if console.get("network_mode") is not None:
        problems.append(f"network_mode {console['network_mode']}")
    nets = networks_of(console)
    if nets - internal:
        problems.append(f"on networks with a route out: {sorted(nets - internal)}")
    peers = {n for n, s in services.items() if n != CONSOLE and networks_of(s) & nets}
    if peers != {"intake"}:
        problems.append(f"shares a network with {sorted(peers)}")
    return problems


def test_compose_console_is_reached_only_by_the_gateway_and_reaches_only_it(compose: dict[str, Any]) -> None:
    assert console_isolation_problems(compose) == []
    assert "intake" in compose["services"][CONSOLE].get("depends_on", []) or "intake" in (
        compose["services"][CONSOLE].get("depends_on") or {}
    )


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda c: c["services"][CONSOLE].update(ports=["127.0.0.1:8006:8006"]), id="published-on-loopback"),
        pytest.param(lambda c: c["services"][CONSOLE].update(ports=["8006"]), id="published-anywhere"),
        pytest.param(lambda c: c["services"][CONSOLE].update(expose=["8006"]), id="exposed"),
        pytest.param(lambda c: c["services"][CONSOLE]["networks"].append("backend"), id="on-backend"),
        pytest.param(lambda c: c["services"][CONSOLE]["networks"].append("data"), id="on-data"),
        pytest.param(lambda c: c["services"][CONSOLE]["networks"].append("edge"), id="on-edge"),
        pytest.param(lambda c: c["services"][CONSOLE].update(network_mode="host"), id="host-network"),
        pytest.param(lambda c: c["services"]["dispatch"]["networks"].append(CONSOLE), id="dispatch-joins"),
        pytest.param(lambda c: c["services"]["prometheus"]["networks"].append(CONSOLE), id="prometheus-joins"),
        pytest.param(lambda c: c["networks"][CONSOLE].pop("internal"), id="network-not-internal"),
    ],
)
def test_compose_console_isolation_check_is_not_vacuous(compose: dict[str, Any], mutate: Any) -> None:
    broken = copy.deepcopy(compose)
    mutate(broken)
    assert console_isolation_problems(broken), "the mutation went unnoticed"


def test_compose_backend_services_reach_the_gateway_network_never(compose: dict[str, Any]) -> None:
    edge = networks_of(compose["services"]["intake"]) - {
        n for n, spec in compose["networks"].items() if (spec or {}).get("internal") is True
    }
    assert edge, "intake needs a non-internal network for its published port"
    for name, service in compose["services"].items():
        if name != "intake":
            assert not networks_of(service) & edge, f"{name} shares the gateway's public network"


def test_compose_infra_requires_credentials(compose: dict[str, Any]) -> None:
    mongo = compose["services"]["mongo"]
    assert "--auth" in mongo["command"]
    env = mongo.get("environment") or {}
    assert env.get("MONGO_INITDB_ROOT_PASSWORD_FILE", "").startswith("/run/secrets/")
    assert "MONGO_INITDB_ROOT_PASSWORD" not in env, "the root password never sits in the compose file"
    init = [str(v).split(":") for v in mongo.get("volumes", []) if "/docker-entrypoint-initdb.d/" in str(v)]
    assert init, "mongo must create the per-service users on its first start"
    for source, *_ in init:
        assert (REPO / source).is_file(), f"{source} is missing"
    path, _text = nats_config(compose)
    assert path.is_file(), f"{path} is missing"


def nats_config(compose: dict[str, Any]) -> tuple[Path, str]:
    nats = compose["services"]["nats"]
    cmd = [str(c) for c in nats["command"]]
    conf = cmd[cmd.index("-c") + 1]
    mounts = {str(v).split(":")[1]: str(v).split(":")[0] for v in nats.get("volumes", [])}
    path = REPO / mounts[conf]
    return path, path.read_text()


def test_nats_server_gets_every_password_its_config_reads_and_users_are_the_services(
    compose: dict[str, Any], generated: Path
) -> None:
    _path, text = nats_config(compose)
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    referenced = set(re.findall(r"password:\s*\$([A-Za-z_][A-Za-z0-9_]*)", body))
    users = set(re.findall(r'\buser:\s*"([^"]+)"', body))
    assert set(SERVICES) <= users, f"NATS users {sorted(users)} must include every service by name"
    assert "no_auth_user" not in body, "anonymous clients must be refused"
    assert not re.search(r'password:\s*"', body), "no literal password in the committed config"
    given = set(values(generated / "compose" / "nats.env"))
    assert referenced and referenced == given, f"config reads {sorted(referenced)}, nats.env gives {sorted(given)}"
    nats_env = values(generated / "compose" / "nats.env")
    for service in SERVICES:
        own = values(generated / "compose" / f"{service}.env")["NATS_PASSWORD"]
        assert nats_env["NATS_PASSWORD_" + service.upper().replace("-", "_")] == own, service
    assert compose["services"]["nats"].get("env_file") == "./deploy/secrets/compose/nats.env"


def test_mongo_user_script_matches_the_generated_urls(compose: dict[str, Any], generated: Path) -> None:
    script = (REPO / "deploy" / "mongo" / "create-users.js").read_text()
    users = dict(re.findall(r'^\s*"?([a-z][a-z-]*)"?:\s*"(opsdesk_[a-z_]+)",?\s*$', script, re.M))
    assert users == {s: database_of(s) for s in SERVICES}, users
    assert 'role: "readWrite", db: database' in script and "admin" in script
    assert "_MONGODB_PASSWORD" in script
    mongo_env = values(generated / "compose" / "mongo.env")
    for service in SERVICES:
        url = values(generated / "compose" / f"{service}.env")["MONGODB_URL"]
        password = mongo_env[service.upper().replace("-", "_") + "_MONGODB_PASSWORD"]
        assert url.startswith(f"mongodb://{service}:{password}@mongo:27017/{database_of(service)}?"), url
        assert url.endswith("authSource=admin"), "the users are created in `admin`"
    assert compose["services"]["mongo"].get("env_file") == "./deploy/secrets/compose/mongo.env"


def test_compose_secrets_go_only_to_their_reader(compose: dict[str, Any]) -> None:
    readers = {name: sorted(str(x if isinstance(x, str) else x["source"]) for x in s.get("secrets", []))
               for name, s in compose["services"].items() if s.get("secrets")}
    assert readers == {"mongo": ["mongo_root_password"], "prometheus": ["metrics_token"], "grafana": ["grafana_admin_password"]}


def test_grafana_requires_sign_in_in_compose(compose: dict[str, Any]) -> None:
    env = compose["services"]["grafana"]["environment"]
    assert str(env.get("GF_AUTH_ANONYMOUS_ENABLED")).lower() == "false"
    assert str(env.get("GF_USERS_ALLOW_SIGN_UP")).lower() == "false"
    assert str(env.get("GF_AUTH_DISABLE_LOGIN_FORM", "false")).lower() == "false"
    assert "GF_SECURITY_ADMIN_PASSWORD" not in env, "no admin password (nor Grafana's admin/admin default) in the file"
    assert env.get("GF_SECURITY_ADMIN_PASSWORD__FILE") == "/run/secrets/grafana_admin_password"


def test_grafana_requires_sign_in_wherever_kubernetes_runs_it() -> None:
    for doc in applied():
        if doc["kind"] in ("ConfigMap", "Secret") and any("auth.anonymous" in str(v) for v in (doc.get("data") or {}).values()):
            assert not re.search(r"\[auth\.anonymous\][^\[]*enabled\s*=\s*true", str(doc["data"]))
        if doc["kind"] not in ("Deployment", "StatefulSet"):
            continue
        for c in doc["spec"]["template"]["spec"]["containers"]:
            env = {e["name"]: e.get("value") for e in c.get("env", [])}
            if "grafana" in str(c.get("image", "")):
                assert str(env.get("GF_AUTH_ANONYMOUS_ENABLED")).lower() == "false"
                assert "GF_SECURITY_ADMIN_PASSWORD" not in env or env["GF_SECURITY_ADMIN_PASSWORD"] is None


def test_prometheus_sends_the_scrape_token(compose: dict[str, Any]) -> None:
    config = yaml.safe_load(PROMETHEUS_FILE.read_text())
    jobs = [j for j in config["scrape_configs"] if j.get("metrics_path", "/metrics") == "/metrics"]
    assert jobs
    for job in jobs:
        auth = job.get("authorization") or {}
        assert auth.get("type", "Bearer") == "Bearer"
        assert auth.get("credentials_file") == "/run/secrets/metrics_token", job["job_name"]
        assert "credentials" not in auth, "the token never sits in the config file"
    secret = compose["secrets"]["metrics_token"]["file"]
    assert secret == "./deploy/secrets/shared/metrics-token", "the same value every service gets as OPSDESK_METRICS_TOKEN"


# ----------------------------------------------------------------------------- Kubernetes: secrets


def test_every_referenced_secret_key_is_in_the_example_and_in_the_readme() -> None:
    examples = example_secrets()
    commands = readme_secret_commands()
    for name in deployments():
        for secret, key in secret_refs(name):
            assert secret in examples, f"{name}: Secret {secret} has no example"
            assert secret in commands, f"{name}: deploy/README.md never creates Secret {secret}"
            if key is not None:
                assert key in examples[secret], f"{name}: key {key} missing from the example Secret {secret}"
                assert key in commands[secret], f"{name}: key {key} missing from the README's command for {secret}"
    for secret, keys in commands.items():
        assert set(keys) == examples.get(secret), f"README and example disagree on {secret}: {keys} vs {examples.get(secret)}"


def test_readme_secret_commands_read_the_generated_files(generated: Path) -> None:
    for secret, keys in readme_secret_commands().items():
        for key, source in keys.items():
            assert source.startswith("deploy/secrets/"), f"{secret}/{key} comes from {source}"
            assert (generated / source.removeprefix("deploy/secrets/")).is_file(), f"{source} is not generated"


def test_the_console_pod_gets_only_its_session_secret() -> None:
    assert secret_refs(CONSOLE) == {("opsdesk-console", "session-secret")}


@pytest.mark.parametrize("service", SERVICES)
def test_each_pod_gets_only_its_own_secrets(service: str) -> None:
    refs = secret_refs(service)
    assert {s for s, _ in refs} <= {"opsdesk-shared", f"opsdesk-{service}"}, refs
    assert all(k is not None for _, k in refs), "whole-Secret imports hide which keys a pod gets"
    keys = {k for _, k in refs if k is not None}
    expected = {"internal-public-key", "metrics-token", "audit-key", "nats-password", "mongodb-password"}
    if service == "intake":
        expected |= GATEWAY_ONLY_KEYS
    assert keys == expected, f"{service}: {sorted(keys)}"


def test_k8s_urls_expand_only_variables_defined_before_them() -> None:
    """Kubernetes leaves an unknown $(VAR) as literal text: a typo would become part of the password silently."""
    configmaps = {d["metadata"]["name"]: d for d in applied() if d["kind"] == "ConfigMap"}
    for name in deployments():
        for c in containers(name):
            defined = {k for e in c.get("envFrom", []) if "configMapRef" in e for k in configmaps[e["configMapRef"]["name"]]["data"]}
            for e in c.get("env", []):
                for var in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", str(e.get("value", ""))):
                    assert var in defined, f"{name}: {e['name']} uses $({var}) before it is defined"
                defined.add(e["name"])
            env = {e["name"]: e.get("value") for e in c.get("env", [])}
            if name == CONSOLE:
                assert not {"MONGODB_URL", "NATS_PASSWORD", "OPSDESK_MONGODB_PASSWORD"} & set(env), name
                continue
            db = database_of(name)
            assert env["MONGODB_URL"] == f"mongodb://{name}:$(OPSDESK_MONGODB_PASSWORD)@$(MONGODB_HOSTPORT)/{db}?authSource=admin"
            assert "NATS_USER" not in env, "the NATS user is the service's own name (the settings' default)"


# ----------------------------------------------------------------------------- Kubernetes: NetworkPolicies


NAMESPACE = "opsdesk"
NATS_POD = {"app.kubernetes.io/name": "nats"}
MONGO_POD = {"app.kubernetes.io/name": "mongodb"}
PROMETHEUS = ("monitoring", {"app.kubernetes.io/name": "prometheus"})
OUTSIDE = ("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"})
STRANGER = (NAMESPACE, {"app": "debug-shell"})  # any other pod in the namespace (e.g. a compromised tool)


@functools.cache
def policies() -> list[dict[str, Any]]:
    return [d for d in applied() if d["kind"] == "NetworkPolicy"]


def matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        have = expr["key"] in labels
        if expr["operator"] == "In" and labels.get(expr["key"]) not in expr["values"]:
            return False
        if expr["operator"] == "NotIn" and labels.get(expr["key"]) in expr["values"]:
            return False
        if (expr["operator"] == "Exists") != have and expr["operator"] in ("Exists", "DoesNotExist"):
            return False
    return True


def peer_allows(peer: dict[str, Any], source: tuple[str, dict[str, str]]) -> bool:
    namespace, labels = source
    if "ipBlock" in peer:
        return False  # the sources modelled here are pods
    ns_labels = {"kubernetes.io/metadata.name": namespace}
    if "namespaceSelector" in peer:
        if not matches(peer["namespaceSelector"], ns_labels):
            return False
    elif namespace != NAMESPACE:
        return False  # a bare podSelector means pods of the policy's own namespace
    return matches(peer.get("podSelector") or {}, labels)


def allowed(
    source: tuple[str, dict[str, str]], target: dict[str, str], port: int, *, among: list[dict[str, Any]] | None = None
) -> bool:
    """Kubernetes' rule: a selected pod accepts a connection that some ingress rule of some selecting policy allows."""
    selecting = [p for p in (policies() if among is None else among) if matches(p["spec"]["podSelector"], target) and "Ingress" in p["spec"].get("policyTypes", ["Ingress"])]
    if not selecting:
        return True
    for policy in selecting:
        for rule in policy["spec"].get("ingress") or []:
            peers = rule.get("from")
            ports = rule.get("ports")
            if peers and not any(peer_allows(peer, source) for peer in peers):
                continue
            if ports and not any(p.get("port") in (None, port) and p.get("protocol", "TCP") == "TCP" for p in ports):
                continue
            return True
    return False


def pod_labels(name: str) -> dict[str, str]:
    labels: dict[str, str] = deployments()[name]["spec"]["template"]["metadata"]["labels"]
    return labels


def test_namespace_denies_ingress_by_default() -> None:
    deny = [p for p in policies() if p["spec"]["podSelector"] in ({}, None) and not p["spec"].get("ingress")]
    assert deny and "Ingress" in deny[0]["spec"]["policyTypes"], "a default-deny-ingress policy for every pod"
    assert all(p["metadata"]["namespace"] == NAMESPACE for p in policies())


def test_only_the_gateway_is_reachable_from_outside() -> None:
    assert allowed(OUTSIDE, pod_labels("intake"), 8000)
    for name in BACKENDS:
        assert not allowed(OUTSIDE, pod_labels(name), SERVICES[name][2]), f"{name} reachable from outside"
    assert not allowed(OUTSIDE, NATS_POD, 4222) and not allowed(OUTSIDE, MONGO_POD, 27017)
    assert not allowed(OUTSIDE, pod_labels("intake"), 9999), "only the gateway's HTTP port"


def test_only_the_gateway_reaches_the_services() -> None:
    intake = (NAMESPACE, pod_labels("intake"))
    for name in BACKENDS:
        port = SERVICES[name][2]
        assert allowed(intake, pod_labels(name), port), f"the gateway cannot reach {name}"
        assert not allowed(intake, pod_labels(name), port + 100), f"{name}: only its HTTP port"
        assert not allowed(STRANGER, pod_labels(name), port), f"{name} reachable from any pod"
        for other in BACKENDS:
            if other != name:
                assert not allowed((NAMESPACE, pod_labels(other)), pod_labels(name), port), f"{other} -> {name}"
        assert not allowed((NAMESPACE, NATS_POD), pod_labels(name), port)


def test_prometheus_reaches_every_service_port_and_nothing_else() -> None:
    for name, (_m, _c, port) in SERVICES.items():
        assert allowed(PROMETHEUS, pod_labels(name), port), f"Prometheus cannot scrape {name}"
    assert not allowed(PROMETHEUS, NATS_POD, 4222) and not allowed(PROMETHEUS, MONGO_POD, 27017)
    assert not allowed(("other", {"app.kubernetes.io/name": "prometheus"}), pod_labels("dispatch"), 8001), (
        "a pod calling itself prometheus elsewhere is not Prometheus"
    )


def test_only_the_services_reach_nats_and_the_database() -> None:
    for name in SERVICES:
        source = (NAMESPACE, pod_labels(name))
        assert allowed(source, NATS_POD, 4222), f"{name} cannot reach NATS"
        assert allowed(source, MONGO_POD, 27017), f"{name} cannot reach MongoDB"
        assert not allowed(source, MONGO_POD, 4222) and not allowed(source, NATS_POD, 8222)
    assert not allowed(STRANGER, NATS_POD, 4222) and not allowed(STRANGER, MONGO_POD, 27017)
    # Their own cluster traffic still flows.
    assert allowed((NAMESPACE, NATS_POD), NATS_POD, 6222) and allowed((NAMESPACE, MONGO_POD), MONGO_POD, 27017)


def test_the_policy_evaluator_is_not_vacuous() -> None:
    """Without the default deny, a stranger would reach a pod no other policy selects."""
    assert allowed(STRANGER, {"app": "unselected"}, 1234) is False  # default deny selects it
    everything = [p for p in policies() if p["metadata"]["name"] != "default-deny-ingress"]
    assert all(not matches(p["spec"]["podSelector"], {"app": "unselected"}) for p in everything)


def iter_policy_ports() -> Iterator[int]:
    for policy in policies():
        for rule in policy["spec"].get("ingress") or []:
            for port in rule.get("ports") or []:
                yield int(port["port"])


def test_policy_ports_are_the_real_container_ports() -> None:
    real = {p["containerPort"] for n in deployments() for c in containers(n) for p in c.get("ports", [])}
    assert set(iter_policy_ports()) <= real | {4222, 27017}


# ----------------------------------------------------------------------------- Kubernetes: the web console


KUBE_DNS = ("kube-system", {"k8s-app": "kube-dns"})
INTERNET: tuple[str, dict[str, str]] = ("internet", {})  # anything outside the cluster's pods


def egress_allowed(
    source: dict[str, str], target: tuple[str, dict[str, str]], port: int, protocol: str = "TCP",
    *, among: list[dict[str, Any]] | None = None,
) -> bool:
    """Kubernetes' rule for the source's side: a pod selected by an Egress policy may open only what some rule allows.
    (A connection needs both this and the target's ingress side.)"""
    selecting = [
        p for p in (policies() if among is None else among)
        if matches(p["spec"]["podSelector"], source) and "Egress" in p["spec"].get("policyTypes", [])
    ]
    if not selecting:
        return True
    for policy in selecting:
        for rule in policy["spec"].get("egress") or []:
            peers = rule.get("to")
            ports = rule.get("ports")
            if peers and not any(peer_allows(peer, target) for peer in peers):
                continue
            if ports and not any(p.get("port") in (None, port) and p.get("protocol", "TCP") == protocol for p in ports):
                continue
            return True
    return False


def test_only_the_gateway_reaches_the_console() -> None:
    console = pod_labels(CONSOLE)
    assert allowed((NAMESPACE, pod_labels("intake")), console, CONSOLE_PORT), "the gateway cannot proxy the console"
    assert not allowed((NAMESPACE, pod_labels("intake")), console, CONSOLE_PORT + 100), "only the console's port"
    strangers = [OUTSIDE, STRANGER, PROMETHEUS, (NAMESPACE, NATS_POD), (NAMESPACE, MONGO_POD)]
    strangers += [(NAMESPACE, pod_labels(name)) for name in BACKENDS]
    for source in strangers:
        assert not allowed(source, console, CONSOLE_PORT), f"{source} reaches the console"


def test_the_console_reaches_only_the_gateway() -> None:
    console = pod_labels(CONSOLE)
    intake = (NAMESPACE, pod_labels("intake"))
    assert egress_allowed(console, intake, 8000) and allowed((NAMESPACE, console), intake[1], 8000)
    assert egress_allowed(console, KUBE_DNS, 53, "UDP") and egress_allowed(console, KUBE_DNS, 53, "TCP"), "DNS"
    assert not egress_allowed(console, intake, 9999)
    for name in BACKENDS:
        port = SERVICES[name][2]
        target = (NAMESPACE, pod_labels(name))
        assert not egress_allowed(console, target, port), f"the console may open {name}"
        assert not allowed((NAMESPACE, console), target[1], port), f"{name} admits the console"
    for target, port in (((NAMESPACE, NATS_POD), 4222), ((NAMESPACE, MONGO_POD), 27017)):
        assert not egress_allowed(console, target, port), f"the console may open {target[1]}"
        assert not allowed((NAMESPACE, console), target[1], port), f"{target[1]} admits the console"
    assert not egress_allowed(console, INTERNET, 443) and not egress_allowed(console, KUBE_DNS, 443)
    # Nothing but the console is held in by these egress rules: the services still send mail and webhooks.
    for name in SERVICES:
        assert egress_allowed(pod_labels(name), INTERNET, 443), name


def test_the_console_is_not_a_service_to_the_shared_rules() -> None:
    """The rules for NATS, MongoDB and Prometheus select `component: service`; the console is `web`."""
    labels = pod_labels(CONSOLE)
    assert labels.get("app.kubernetes.io/component") != "service", labels
    assert not allowed(PROMETHEUS, labels, CONSOLE_PORT), "the console has no /metrics for Prometheus"


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"podSelector": {"matchLabels": {"app.kubernetes.io/name": "console"}}, "policyTypes": ["Ingress"],
                      "ingress": [{"ports": [{"port": 8006}]}]}, id="console-open-to-all"),
        pytest.param({"podSelector": {"matchLabels": {"app.kubernetes.io/component": "web"}}, "policyTypes": ["Ingress"],
                      "ingress": [{"from": [{"podSelector": {}}]}]}, id="whole-namespace-to-web"),
        pytest.param({"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": [{"namespaceSelector": {}}]}]},
                     id="allow-all"),
    ],
)
def test_console_ingress_check_is_not_vacuous(extra: dict[str, Any]) -> None:
    among = [*policies(), {"kind": "NetworkPolicy", "metadata": {"name": "extra", "namespace": NAMESPACE}, "spec": extra}]
    reached = [s for s in (OUTSIDE, STRANGER, PROMETHEUS, (NAMESPACE, pod_labels("dispatch")))
               if allowed(s, pod_labels(CONSOLE), CONSOLE_PORT, among=among)]
    assert reached, "an extra allow rule went unnoticed"


def test_console_egress_check_is_not_vacuous() -> None:
    without = [p for p in policies() if "Egress" not in p["spec"].get("policyTypes", [])]
    assert len(without) == len(policies()) - 1, "one egress policy: the console's"
    assert egress_allowed(pod_labels(CONSOLE), (NAMESPACE, pod_labels("dispatch")), 8001, among=without)
    relabelled = {**pod_labels(CONSOLE), "app.kubernetes.io/component": "service"}
    assert allowed((NAMESPACE, relabelled), NATS_POD, 4222), "labelled `service`, NATS would admit it"
