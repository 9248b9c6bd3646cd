"""Grafana dashboards and their provisioning: every metric a dashboard queries is exported by some service.

Exported names come from each service's own metrics registry (imported, not scraped) plus the shared HTTP and bus
histograms every service serves; a counter `x` is queried as `x_total`, a histogram as `x_bucket`/`x_sum`/`x_count`.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

REPO = Path(__file__).resolve().parents[2]
GRAFANA = REPO / "deploy" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
METRICS_MODULES = ["intake.metrics", "dispatch.metrics", "sla_monitor.metrics", "assets.metrics", "reporting.metrics", "knowledge.metrics"]
# Series Prometheus makes itself for every target, not exported by a service.
PROMETHEUS_BUILTIN = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}
PROMQL_WORDS = {
    "sum", "avg", "min", "max", "count", "rate", "irate", "increase", "by", "without", "on", "ignoring", "group_left",
    "group_right", "histogram_quantile", "clamp_min", "clamp_max", "topk", "bottomk", "and", "or", "unless", "offset",
    "bool", "abs", "delta", "deriv", "time", "vector", "scalar", "label_replace", "sort", "sort_desc", "round",
}
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",), "summary": ("", "_sum", "_count"),
            "unknown": ("",), "info": ("_info",)}


def registries() -> list[CollectorRegistry]:
    from opsdesk_shared.observability import SHARED_REGISTRY

    found = [SHARED_REGISTRY]
    for name in METRICS_MODULES:
        if importlib.util.find_spec(name.split(".")[0]) is None or importlib.util.find_spec(name) is None:
            continue  # knowledge.metrics may not exist yet: then no dashboard may query knowledge_ metrics (below)
        found.append(importlib.import_module(name).registry)
    return found


def exported() -> set[str]:
    names: set[str] = set()
    for registry in registries():
        for family in registry.collect():
            names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ("",)))
            names.update(sample.name for sample in family.samples)
    return names


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression: label matchers, grouping clauses, ranges and strings removed first."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        word = match.group(0)
        following = text[match.end():].lstrip()[:1]
        if word in PROMQL_WORDS or following == "(":
            continue
        names.add(word)
    return names


def queries(path: Path) -> list[tuple[str, str]]:
    board = json.loads(path.read_text())
    return [(panel["title"], target["expr"]) for panel in board["panels"] for target in panel.get("targets", [])]


def test_metric_names_are_read_out_of_promql() -> None:
    expr = 'histogram_quantile(0.9, sum by (le, service) (rate(http_request_duration_seconds_bucket{job="x"}[5m]))) / clamp_min(sum(up), 1)'
    assert metric_names(expr) == {"http_request_duration_seconds_bucket", "up"}
    assert metric_names("sum by (timer) (increase(sla_breaches_total[1h]))") == {"sla_breaches_total"}


def test_there_is_a_dashboard_for_the_desk_sla_dispatch_and_platform() -> None:
    titles = {json.loads(p.read_text())["title"] for p in DASHBOARDS}
    assert titles == {"Opsdesk：服务台", "Opsdesk：SLA时限", "Opsdesk：派单", "Opsdesk：平台运行"}


# Latin that may stand in a Chinese title: the product's name, abbreviations the desk says as they are, percentiles.
LATIN_ALLOWED = re.compile(r"Opsdesk|SLA|HTTP|p\d{2}")
CJK = re.compile(r"[\u4e00-\u9fff]")


def is_chinese_title(title: str) -> bool:
    return bool(CJK.search(title)) and not re.search(r"[A-Za-z]", LATIN_ALLOWED.sub("", title))


def test_a_chinese_title_is_told_from_an_english_or_mixed_one() -> None:
    assert is_chinese_title("各服务HTTP响应时间p90")
    assert not is_chinese_title("Dead letters (per hour)")
    assert not is_chinese_title("死信 dead letters")


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_every_dashboard_and_panel_title_is_chinese(path: Path) -> None:
    board = json.loads(path.read_text())
    titles = [board["title"], *(panel["title"] for panel in board["panels"])]
    assert [t for t in titles if not is_chinese_title(t)] == []


def dead_letter_counters() -> set[str]:
    """Every `<prefix>_dead_letters_total` a service's own registry exports (not the shared
    `opsdesk_dead_letters_total` of every service, which the alert rules read: deploy/prometheus/alerts.yml)."""
    return {
        family.name + "_total"
        for registry in registries()
        for family in registry.collect()
        if family.type == "counter" and family.name.endswith("_dead_letters") and family.name != "opsdesk_dead_letters"
    }


def test_the_dead_letter_panel_shows_every_services_dead_letters() -> None:
    from opsdesk_shared.bus_permissions import SERVICES

    # Every service consumes events, so every service can dead-letter: each must export its counter...
    modules = {name.split(".")[0] for name in METRICS_MODULES}
    assert {s.replace("-", "_") for s in SERVICES} <= modules
    counters = dead_letter_counters()
    assert len(counters) == len(SERVICES), sorted(counters)
    # ...and the one dead-letter panel must query all of them.
    board = json.loads((GRAFANA / "dashboards" / "opsdesk-platform.json").read_text())
    [panel] = [p for p in board["panels"] if "Dead letters" in p.get("description", "")]
    queried = {name for target in panel["targets"] for name in metric_names(target["expr"])}
    assert counters <= queried, f"left out: {sorted(counters - queried)}"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_every_metric_a_dashboard_queries_is_exported(path: Path) -> None:
    known = exported() | PROMETHEUS_BUILTIN
    missing = {(title, name) for title, expr in queries(path) for name in metric_names(expr) if name not in known}
    assert not missing, f"{path.name} queries metrics no service exports: {sorted(missing)}"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboards_use_the_provisioned_datasource_and_unique_panel_ids(path: Path) -> None:
    board: dict[str, Any] = json.loads(path.read_text())
    datasource = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())["datasources"][0]
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        assert panel["datasource"]["uid"] == datasource["uid"]
        assert panel["targets"], panel["title"]


def test_dashboard_files_are_what_the_builder_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("build_dashboards", GRAFANA / "build_dashboards.py")
    assert spec and spec.loader
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    monkeypatch.setattr(builder, "OUT", tmp_path)
    builder.main()
    for written in tmp_path.glob("*.json"):
        assert json.loads(written.read_text()) == json.loads((GRAFANA / "dashboards" / written.name).read_text()), written.name


def test_compose_runs_grafana_with_the_provisioning_and_dashboards_mounted() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    grafana = compose["services"]["grafana"]
    mounts = [str(v) for v in grafana["volumes"]]
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in mounts
    assert "./deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro" in mounts
    provider = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "opsdesk.yml").read_text())["providers"][0]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
    assert grafana["ports"] == ["127.0.0.1:3000:3000"]
    assert "monitoring" in grafana["profiles"] and "monitoring" in compose["services"]["prometheus"]["profiles"]


def test_compose_runs_the_knowledge_service_like_the_others() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    knowledge = compose["services"]["knowledge"]
    assert knowledge["build"]["args"] == {"SERVICE": "knowledge", "PACKAGE": "knowledge", "PORT": "8005"}
    env = knowledge["environment"]
    assert (env["KNOWLEDGE_HOST"], env["KNOWLEDGE_PORT"], env["KNOWLEDGE_ENVIRONMENT"]) == ("0.0.0.0", "8005", "production")
    assert "ports" not in knowledge
    prometheus = yaml.safe_load((REPO / "deploy" / "prometheus.yml").read_text())
    targets = {t for job in prometheus["scrape_configs"] for c in job["static_configs"] for t in c["targets"]}
    assert "knowledge:8005" in targets
