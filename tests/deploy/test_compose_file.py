"""Offline checks of the deployment files: docker-compose.yml, deploy/Dockerfile, deploy/prometheus.yml, deploy/k8s/.

No Docker daemon or network needed. docker-compose.yml is validated against the official Compose
Specification JSON schema, vendored verbatim as compose-spec.json next to this file (from
compose-spec/compose-spec, schema/compose-spec.json, commit 00655e2222608fa6eaecdf12ac5195889ca2244a).
"""

from __future__ import annotations

import copy
import json
import re
import shlex
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "deploy" / "Dockerfile"
PROMETHEUS_FILE = REPO / "deploy" / "prometheus.yml"
K8S_DIR = REPO / "deploy" / "k8s"
SCHEMA_FILE = Path(__file__).with_name("compose-spec.json")

# compose service / services/<dir> -> (python package, env prefix, port)
OPSDESK: dict[str, tuple[str, str, int]] = {
    "intake": ("intake", "INTAKE_", 8000),
    "dispatch": ("dispatch", "DISPATCH_", 8001),
    "sla-monitor": ("sla_monitor", "SLA_", 8002),
    "assets": ("assets", "ASSETS_", 8003),
    "reporting": ("reporting", "REPORTING_", 8004),
    "knowledge": ("knowledge", "KNOWLEDGE_", 8005),
}
# The web console: a client of the gateway's public API (no NATS, no database), built from the same recipe.
CONSOLE = "console"
CONSOLE_PORT = 8006
INFRA = ("mongo", "nats")
LOOPBACK = "127.0.0.1"


# ----------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict), "docker-compose.yml must be a mapping"
    return data


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text())
    return loaded


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def depends_of(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def published_ports(service: dict[str, Any]) -> list[tuple[str | None, str, str]]:
    """(host_ip, published, target) for each published port; host_ip None means all interfaces."""
    result = []
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            if port.get("published") is None:
                continue
            result.append((port.get("host_ip"), str(port["published"]), str(port["target"])))
            continue
        spec = str(port).split("/", 1)[0]
        if spec.startswith("["):  # [::1]:8000:8000
            host, rest = spec[1:].split("]:", 1)
            published, target = rest.split(":", 1)
            result.append((host, published, target))
            continue
        parts = spec.split(":")
        if len(parts) == 1:  # "8000": a random host port on all interfaces
            result.append((None, "", parts[0]))
        elif len(parts) == 2:
            result.append((None, parts[0], parts[1]))
        else:
            result.append((":".join(parts[:-2]), parts[-2], parts[-1]))
    return result


def env_files(service: dict[str, Any]) -> list[str]:
    files = service.get("env_file") or []
    if isinstance(files, (str, dict)):
        files = [files]
    return [f["path"] if isinstance(f, dict) else str(f) for f in files]


def command_list(cmd: Any) -> list[str]:
    if cmd is None:
        return []
    return shlex.split(cmd) if isinstance(cmd, str) else [str(c) for c in cmd]


def healthcheck_is_real(service: dict[str, Any]) -> bool:
    hc = service.get("healthcheck")
    if not hc or hc.get("disable") in (True, "true"):
        return False
    test = hc.get("test")
    if isinstance(test, str):
        return bool(test.strip()) and test.strip().upper() != "NONE"
    return bool(test) and test[0] in ("CMD", "CMD-SHELL") and len(test) > 1


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with comments dropped and line continuations joined."""
    lines: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    if pending:
        lines.append(pending)
    out = []
    for line in lines:
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def dockerfile_stages() -> list[tuple[str, str]]:
    """(base, stage name) of every FROM, in order."""
    stages = []
    for instr, arg in dockerfile_instructions():
        if instr == "FROM":
            words = arg.split()
            stages.append((words[0], words[2] if len(words) > 2 and words[1].upper() == "AS" else ""))
    return stages


def k8s_documents() -> list[tuple[Path, dict[str, Any]]]:
    files = sorted(
        p
        for p in K8S_DIR.iterdir()
        if p.suffix in (".yaml", ".yml") or p.name.endswith((".yaml.example", ".yml.example"))
    )
    docs = []
    for path in files:
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is not None:
                docs.append((path, doc))
    return docs


def k8s_applied() -> list[dict[str, Any]]:
    """What `kubectl apply -f deploy/k8s/` would send: only .yaml/.yml/.json files."""
    return [doc for path, doc in k8s_documents() if path.suffix in (".yaml", ".yml")]


# ----------------------------------------------------------------------------- compose: schema


def test_vendored_schema_is_the_compose_spec(schema: dict[str, Any]) -> None:
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["title"] == "Compose Specification"
    assert schema["$id"] == "compose_spec.json"
    assert {"service", "healthcheck", "deployment", "list_or_dict", "command"} <= set(schema["definitions"])


def test_compose_file_is_valid_against_compose_spec(compose: dict[str, Any], schema: dict[str, Any]) -> None:
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(compose), key=lambda e: list(e.absolute_path))
    assert not errors, "docker-compose.yml violates the Compose spec:\n" + "\n".join(
        f"  {'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors
    )


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda c: c["services"]["intake"].update(bulid={"context": "."}), id="unknown-service-key"),
        pytest.param(
            lambda c: c["services"]["intake"]["depends_on"]["mongo"].update(condition="healthy"), id="bad-condition"
        ),
        pytest.param(
            lambda c: c["services"]["mongo"].update(healthcheck={"test": ["CMD"], "interval": 10}),
            id="bad-interval-type",
        ),
        pytest.param(lambda c: c.update(service={}), id="unknown-top-level-key"),
    ],
)
def test_schema_rejects_broken_variants(compose: dict[str, Any], schema: dict[str, Any], mutate: Any) -> None:
    """The schema check above is not vacuous: typical mistakes in this very file are caught."""
    broken = copy.deepcopy(compose)
    mutate(broken)
    assert list(jsonschema.Draft7Validator(schema).iter_errors(broken)), "mutation was not detected by the schema"


# ----------------------------------------------------------------------------- compose: content


def test_compose_has_infra_and_all_opsdesk_services(compose: dict[str, Any]) -> None:
    missing = (set(OPSDESK) | set(INFRA) | {CONSOLE}) - set(compose["services"])
    assert not missing, f"services missing from docker-compose.yml: {sorted(missing)}"


@pytest.mark.parametrize("name", OPSDESK)
def test_service_builds_from_shared_dockerfile_with_matching_args(compose: dict[str, Any], name: str) -> None:
    package, _prefix, port = OPSDESK[name]
    build = compose["services"][name].get("build")
    assert isinstance(build, dict), f"{name}: build must be a mapping with context, dockerfile and args"
    context = (COMPOSE_FILE.parent / build.get("context", ".")).resolve()
    assert context == REPO, f"{name}: build context must be the repo root, got {context}"
    assert (context / build.get("dockerfile", "Dockerfile")).resolve() == DOCKERFILE.resolve(), (
        f"{name}: must build from deploy/Dockerfile"
    )
    args = build.get("args") or {}
    if isinstance(args, list):
        args = dict(a.split("=", 1) for a in args)
    assert args.get("SERVICE") == name, f"{name}: build arg SERVICE={args.get('SERVICE')!r}"
    assert args.get("PACKAGE") == package, f"{name}: build arg PACKAGE={args.get('PACKAGE')!r}"
    assert str(args.get("PORT")) == str(port), f"{name}: build arg PORT={args.get('PORT')!r}, expected {port}"
    main = REPO / "services" / args["SERVICE"] / args["PACKAGE"] / "__main__.py"
    assert main.is_file(), (
        f"{name}: {main.relative_to(REPO)} does not exist, so `python -m {package}` cannot run in the image"
    )


@pytest.mark.parametrize("name", OPSDESK)
def test_service_environment(compose: dict[str, Any], name: str) -> None:
    _package, prefix, port = OPSDESK[name]
    service = compose["services"][name]
    env = env_of(service)
    assert env.get(f"{prefix}HOST") == "0.0.0.0", f"{name}: {prefix}HOST must be 0.0.0.0 inside the container"
    assert env.get(f"{prefix}PORT") == str(port), f"{name}: {prefix}PORT must be {port}"
    assert env.get(f"{prefix}ENVIRONMENT") == "production"
    # No other service's prefix leaks in (copy-paste mistakes).
    others = {p for n, (_, p, _) in OPSDESK.items() if n != name}
    stray = [k for k in env if any(k.startswith(p) for p in others)]
    assert not stray, f"{name}: variables of other services: {stray}"
    # Credentials never sit in the compose file: each service reads its own generated env file.
    assert env_files(service) == [f"./deploy/secrets/compose/{name}.env"], f"{name}: env_file {env_files(service)}"
    assert env.get("NATS_URL") == "nats://nats:4222"
    inline = {"NATS_PASSWORD", "MONGODB_URL", "OPSDESK_INTERNAL_PUBLIC_KEY", "OPSDESK_METRICS_TOKEN"} & set(env)
    assert not inline, f"{name}: {sorted(inline)} must come from its env file, not the compose file"


def test_mongo_service(compose: dict[str, Any]) -> None:
    mongo = compose["services"]["mongo"]
    assert str(mongo.get("image", "")).startswith("mongo:7")
    assert any(str(v).split(":")[1:2] == ["/data/db"] for v in mongo.get("volumes") or []), (
        "mongo needs a volume on /data/db"
    )
    assert healthcheck_is_real(mongo), "mongo needs a healthcheck"
    assert "mongosh" in " ".join(command_list(mongo["healthcheck"]["test"])) and "ping" in str(
        mongo["healthcheck"]["test"]
    )


def test_nats_service(compose: dict[str, Any]) -> None:
    nats = compose["services"]["nats"]
    assert re.match(r"^nats:2([.-]|$)", str(nats.get("image", ""))), (
        f"nats image must be NATS 2, got {nats.get('image')!r}"
    )
    cmd = command_list(nats.get("command"))
    assert "-js" in cmd or "--jetstream" in cmd, f"JetStream must be enabled: {cmd}"
    store = cmd[cmd.index("-sd") + 1] if "-sd" in cmd else None
    assert store == "/data", f"JetStream store dir must be /data: {cmd}"
    assert any(str(v).split(":")[1:2] == ["/data"] for v in nats.get("volumes") or []), "nats needs a volume on /data"
    assert "-m" in cmd and cmd[cmd.index("-m") + 1] == "8222", (
        "monitoring port 8222 (-m 8222) is needed for the healthcheck"
    )
    assert healthcheck_is_real(nats), "nats needs a healthcheck"
    assert "8222" in str(nats["healthcheck"]["test"]) and "healthz" in str(nats["healthcheck"]["test"])


def test_intake_published_on_loopback_only(compose: dict[str, Any]) -> None:
    ports = published_ports(compose["services"]["intake"])
    assert ports == [(LOOPBACK, "8000", "8000")], f"intake must publish exactly 127.0.0.1:8000:8000, got {ports}"


def test_nothing_published_beyond_loopback(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for host_ip, published, target in published_ports(service):
            assert host_ip == LOOPBACK, (
                f"{name}: port {published}:{target} is published on {host_ip or 'all interfaces'}"
            )
    for name in set(OPSDESK) - {"intake"}:
        assert not compose["services"][name].get("ports"), (
            f"{name} must not be published; it is reached over the compose network"
        )
    for name in INFRA:
        assert not compose["services"][name].get("ports"), f"{name} must not be published"


@pytest.mark.parametrize("name", OPSDESK)
def test_service_waits_for_healthy_infra(compose: dict[str, Any], name: str) -> None:
    deps = depends_of(compose["services"][name])
    for infra in INFRA:
        assert deps.get(infra) == "service_healthy", (
            f"{name} must depend on {infra} with condition service_healthy, got {deps}"
        )
        assert healthcheck_is_real(compose["services"][infra]), (
            f"{infra} has no healthcheck, so service_healthy never holds"
        )


def test_every_depends_on_target_exists(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for dep in depends_of(service):
            assert dep in compose["services"], f"{name} depends on unknown service {dep}"


def test_named_volumes_are_declared(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for vol in service.get("volumes") or []:
            source = vol.get("source") if isinstance(vol, dict) else str(vol).split(":")[0]
            if source and not source.startswith((".", "/", "~")):
                assert source in declared, f"{name}: named volume {source} is not declared at top level"


def test_prometheus_scrapes_all_services(compose: dict[str, Any]) -> None:
    config = yaml.safe_load(PROMETHEUS_FILE.read_text())
    targets = {
        t
        for job in config["scrape_configs"]
        if job.get("metrics_path", "/metrics") == "/metrics"
        for sc in job.get("static_configs", [])
        for t in sc["targets"]
    }
    expected = {f"{name}:{port}" for name, (_, _, port) in OPSDESK.items()}
    assert expected <= targets, f"prometheus.yml misses {sorted(expected - targets)}"
    if "prometheus" in compose["services"]:
        mounts = [str(v) for v in compose["services"]["prometheus"].get("volumes") or []]
        assert any(m.startswith("./deploy/prometheus.yml:/etc/prometheus/prometheus.yml") for m in mounts), mounts


# ----------------------------------------------------------------------------- Dockerfile


def test_dockerfile_installs_with_constraints_and_runs_unprivileged() -> None:
    instructions = dockerfile_instructions()
    text = "\n".join(f"{i} {a}" for i, a in instructions)
    global_args = {}
    for instr, arg in instructions:
        if instr == "FROM":
            break
        if instr == "ARG" and "=" in arg:
            k, v = arg.split("=", 1)
            global_args[k] = v
    stages = dockerfile_stages()
    names = {name for _base, name in stages}
    # The Python stages (build, runtime, the empty web stage) are python:3.11-slim; the console's web stage is the
    # official Node image; a stage chosen by a build arg must name a stage for each value the builds pass.
    for base, name in stages:
        resolved = re.sub(r"\$\{?(\w+)\}?", lambda m: global_args.get(m.group(1), m.group(0)), base)
        if name == "web-npm":
            assert re.fullmatch(r"node:\d+(-bookworm)?-slim", resolved), f"web-npm must be the official Node image: {resolved}"
        elif "${WEB_ASSETS}" in base:
            for value in ("none", "npm"):
                assert base.replace("${WEB_ASSETS}", value) in names, f"{base} with WEB_ASSETS={value} names no stage"
        else:
            assert resolved == "python:3.11-slim", f"stage {name}: base image {resolved}"
    assert stages[-1] == ("${PYTHON_IMAGE}", "runtime"), f"the last stage is the runtime: {stages[-1]}"

    copies = [a for i, a in instructions if i == "COPY"]
    assert any(a.split()[0] == "constraints.txt" for a in copies), "constraints.txt must be copied into the image"
    assert any(a.split()[0].rstrip("/") == "shared" for a in copies), "shared/ must be copied"
    assert any(a.split()[0].rstrip("/") == "services/${SERVICE}" for a in copies), "services/${SERVICE}/ must be copied"
    assert re.search(r"pip install[^\n]*-c constraints\.txt", text), "pip install must use -c constraints.txt"

    users = [a for i, a in instructions if i == "USER"]
    assert users, "the image needs a USER instruction"
    final_user = users[-1].split(":")[0]
    assert final_user not in ("root", "0", ""), f"final USER is {users[-1]!r}"
    last_from = max(n for n, (i, _) in enumerate(instructions) if i == "FROM")
    assert any(i == "USER" for i, _ in instructions[last_from:]), "USER must be set in the final stage"


def test_dockerfile_health_expose_and_cmd() -> None:
    instructions = dockerfile_instructions()
    healthchecks = [a for i, a in instructions if i == "HEALTHCHECK"]
    assert len(healthchecks) == 1
    assert "urllib" in healthchecks[0] and "/healthz" in healthchecks[0]
    assert any(i == "EXPOSE" for i, _ in instructions)
    assert {"SERVICE", "PACKAGE"} <= {a.split("=")[0] for i, a in instructions if i == "ARG"}
    cmd = [a for i, a in instructions if i == "CMD"][-1]
    assert re.search(r"python -m \\?\"?\$\{?OPSDESK_PACKAGE", cmd), f"CMD must run `python -m <package>`: {cmd}"
    assert re.search(r"OPSDESK_PACKAGE=\$\{?PACKAGE\}?", "\n".join(a for i, a in instructions if i == "ENV")), (
        "OPSDESK_PACKAGE must carry the PACKAGE build arg"
    )


# ----------------------------------------------------------------------------- Kubernetes


def test_k8s_manifests_parse_and_are_namespaced() -> None:
    docs = k8s_documents()
    assert docs, "deploy/k8s/ has no manifests"
    kinds = [d.get("kind") for _, d in docs]
    assert "Namespace" in kinds and "ConfigMap" in kinds and "Secret" in kinds, kinds
    for path, doc in docs:
        assert doc.get("apiVersion") and doc.get("kind") and doc.get("metadata", {}).get("name"), (
            f"{path.name}: incomplete object {doc}"
        )
        if doc["kind"] == "Namespace":
            assert doc["metadata"]["name"] == "opsdesk"
        else:
            assert doc["metadata"].get("namespace") == "opsdesk", (
                f"{path.name}: {doc['kind']}/{doc['metadata']['name']} not in namespace opsdesk"
            )


def test_k8s_secret_example_is_not_applied_by_kubectl_apply_dir() -> None:
    applied_secrets = [d for d in k8s_applied() if d["kind"] == "Secret"]
    assert not applied_secrets, "a Secret with a placeholder token would be applied by `kubectl apply -f deploy/k8s/`"


def _deployments() -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in k8s_applied() if d["kind"] == "Deployment"}


def _services() -> list[dict[str, Any]]:
    return [d for d in k8s_applied() if d["kind"] == "Service"]


def test_k8s_has_a_deployment_and_service_per_opsdesk_service() -> None:
    assert set(_deployments()) == set(OPSDESK) | {CONSOLE}
    assert {s["metadata"]["name"] for s in _services()} == set(OPSDESK) | {CONSOLE}


@pytest.mark.parametrize("name", [*OPSDESK, CONSOLE])
def test_k8s_deployment_probes_env_and_ports(name: str) -> None:
    _package, prefix, port = OPSDESK.get(name) or ("console", "CONSOLE_", CONSOLE_PORT)
    dep = _deployments()[name]
    template = dep["spec"]["template"]
    labels = template["metadata"]["labels"]
    selector = dep["spec"]["selector"]["matchLabels"]
    assert selector.items() <= labels.items(), f"{name}: selector {selector} does not match template labels {labels}"

    containers = template["spec"]["containers"]
    assert containers
    for c in containers:
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
            assert probe in c, f"{name}/{c['name']}: missing {probe}"
            assert c[probe]["httpGet"]["path"] == path, f"{name}/{c['name']}: {probe} must GET {path}"
        env = {e["name"]: e for e in c.get("env", [])}
        assert env.get(f"{prefix}HOST", {}).get("value") == "0.0.0.0"
        assert env.get(f"{prefix}PORT", {}).get("value") == str(port)
        assert env.get(f"{prefix}ENVIRONMENT", {}).get("value") == "production"
        container_ports = {p["containerPort"] for p in c.get("ports", [])}
        assert container_ports == {port}, f"{name}: container ports {container_ports}, expected {{{port}}}"
        for probe in ("readinessProbe", "livenessProbe"):
            probe_port = c[probe]["httpGet"]["port"]
            named = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
            assert named.get(probe_port, probe_port) == port, f"{name}: {probe} probes port {probe_port}"

    pod_sc = template["spec"].get("securityContext", {})
    assert pod_sc.get("runAsNonRoot") is True, f"{name}: pod must set runAsNonRoot"


def test_k8s_every_container_port_is_a_service_target_port() -> None:
    services = _services()
    for name, dep in _deployments().items():
        labels = dep["spec"]["template"]["metadata"]["labels"]
        selecting = [
            s for s in services if s["spec"].get("selector") and s["spec"]["selector"].items() <= labels.items()
        ]
        assert selecting, f"no Service selects Deployment {name}"
        for c in dep["spec"]["template"]["spec"]["containers"]:
            by_name = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
            targets = set()
            for s in selecting:
                for sp in s["spec"]["ports"]:
                    tp = sp.get("targetPort", sp["port"])
                    targets.add(by_name.get(tp, tp))
            for p in c.get("ports", []):
                assert p["containerPort"] in targets, (
                    f"{name}: containerPort {p['containerPort']} is no Service targetPort ({targets})"
                )
            unknown = {t for t in targets if t not in by_name.values()}
            assert not unknown, f"{name}: Service targetPort {unknown} matches no container port"


def test_k8s_config_and_secret_references_resolve() -> None:
    docs = [d for _, d in k8s_documents()]
    configmaps = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ConfigMap"}
    secrets = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Secret"}
    for name, dep in _deployments().items():
        for c in dep["spec"]["template"]["spec"]["containers"]:
            refs = [e["configMapRef"]["name"] for e in c.get("envFrom", []) if "configMapRef" in e]
            if name == CONSOLE:
                # No NATS and no database: the console is given neither host (nor, below, any credential for them).
                assert not c.get("envFrom"), f"console: envFrom {c.get('envFrom')}"
                assert not {e["name"] for e in c.get("env", [])} & {"NATS_URL", "MONGODB_URL", "NATS_PASSWORD"}
                continue
            assert refs, f"{name}: the NATS and MongoDB hosts must come from a ConfigMap via envFrom"
            keys = {k for r in refs for k in configmaps[r]["data"]}
            assert {"NATS_URL", "MONGODB_HOSTPORT"} <= keys, f"{name}: ConfigMaps {refs} lack the hosts"
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] in secrets, f"{name}: Secret {ref['name']} has no example manifest"
                    secret = secrets[ref["name"]]
                    assert ref["key"] in {**secret.get("data", {}), **secret.get("stringData", {})}
    intake_env = {e["name"]: e for e in _deployments()["intake"]["spec"]["template"]["spec"]["containers"][0]["env"]}
    for variable in ("INTAKE_BOOTSTRAP_TOKEN", "INTAKE_JWT_SECRET", "INTAKE_INTERNAL_SIGNING_KEY"):
        token = intake_env.get(variable, {})
        assert "secretKeyRef" in token.get("valueFrom", {}), f"{variable} must come from a Secret via secretKeyRef"
        assert "value" not in token, f"{variable} must not be inlined"


def test_intake_routes_to_every_service(compose: dict[str, Any]) -> None:
    env = env_of(compose["services"]["intake"])
    assert env.get("INTAKE_CONSOLE_URL") == f"http://{CONSOLE}:{CONSOLE_PORT}", "the gateway proxies the console's pages"
    for name, key in (("assets", "ASSETS"), ("dispatch", "DISPATCH"), ("sla-monitor", "SLA"), ("reporting", "REPORTING"), ("knowledge", "KNOWLEDGE")):
        assert env.get(f"INTAKE_{key}_URL") == f"http://{name}:{OPSDESK[name][2]}", key


def test_k8s_gateway_routes_to_every_service_and_reads_its_jwt_secret() -> None:
    intake = _deployments()["intake"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in intake["env"]}
    assert env["INTAKE_JWT_SECRET"]["valueFrom"]["secretKeyRef"] == {"name": "opsdesk-intake", "key": "jwt-secret"}
    assert env["INTAKE_CONSOLE_URL"]["value"] == f"http://console.opsdesk.svc.cluster.local:{CONSOLE_PORT}"
    for name, key in (("assets", "ASSETS"), ("dispatch", "DISPATCH"), ("sla-monitor", "SLA"), ("reporting", "REPORTING"), ("knowledge", "KNOWLEDGE")):
        assert env[f"INTAKE_{key}_URL"]["value"] == f"http://{name}.opsdesk.svc.cluster.local:{OPSDESK[name][2]}"


# ----------------------------------------------------------------------------- the web console


def test_console_builds_from_the_shared_recipe_with_its_javascript(compose: dict[str, Any]) -> None:
    build = compose["services"][CONSOLE]["build"]
    assert (COMPOSE_FILE.parent / build["context"]).resolve() == REPO
    assert (REPO / build["dockerfile"]).resolve() == DOCKERFILE.resolve()
    assert build["args"] == {"SERVICE": "console", "PACKAGE": "console", "PORT": str(CONSOLE_PORT), "WEB_ASSETS": "npm"}
    assert (REPO / "services/console/console/__main__.py").is_file()
    # Every service with JavaScript of its own (a lock file) builds the web stage, and only those.
    for name, service in compose["services"].items():
        args = (service.get("build") or {}).get("args") or {}
        if "SERVICE" not in args:
            continue
        has_js = (REPO / "services" / args["SERVICE"] / "package-lock.json").is_file()
        assert (args.get("WEB_ASSETS", "none") == "npm") == has_js, f"{name}: WEB_ASSETS={args.get('WEB_ASSETS')!r}"


def test_console_environment(compose: dict[str, Any]) -> None:
    console = compose["services"][CONSOLE]
    env = env_of(console)
    assert env.get("CONSOLE_HOST") == "0.0.0.0" and env.get("CONSOLE_PORT") == str(CONSOLE_PORT)
    assert env.get("CONSOLE_ENVIRONMENT") == "production"
    assert env.get("CONSOLE_GATEWAY_URL") == "http://intake:8000", "the console calls the gateway's /api/v1"
    assert "CONSOLE_SESSION_SECRET" not in env, "the session secret comes from its env file"
    assert env_files(console) == ["./deploy/secrets/compose/console.env"]
    assert not {k for k in env if k.startswith(("NATS_", "MONGODB_", "OPSDESK_INTERNAL", "OPSDESK_METRICS"))}, env
    assert not {"mongo", "nats"} & set(depends_of(console)), "the console uses neither NATS nor the database"
    assert healthcheck_is_real(console)
    probe = " ".join(command_list(console["healthcheck"]["test"]))
    assert f"127.0.0.1:{CONSOLE_PORT}/healthz" in probe, probe
