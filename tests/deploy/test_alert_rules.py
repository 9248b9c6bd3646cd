"""The alert rules in deploy/prometheus/alerts.yml: loaded by Prometheus (rule_files, mounted by compose), and
every metric they query is one Opsdesk exports, so an alert cannot be silently dead."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import generate_latest

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "deploy" / "prometheus" / "alerts.yml"
PROMQL_FUNCTIONS = {"sum", "by", "increase", "rate", "printf", "without", "max", "min", "count"}


def _rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load(RULES.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def _exported() -> set[str]:
    import opsdesk_shared.deadletters  # noqa: F401  (registers opsdesk_dead_letters_total)
    from opsdesk_shared.observability import SHARED_REGISTRY

    text = generate_latest(SHARED_REGISTRY).decode()
    return {m.group(1) for m in re.finditer(r"^# TYPE (\S+) (\S+)", text, re.M)} | {
        f"{m.group(1)}_total" for m in re.finditer(r"^# TYPE (\S+) counter", text, re.M)
    }


def test_a_dead_letter_alert_fires_on_any_new_dead_letter_per_service_and_subject() -> None:
    [rule] = [r for r in _rules() if r["alert"] == "OpsdeskDeadLetters"]
    assert "increase(opsdesk_dead_letters_total" in rule["expr"] and rule["expr"].rstrip().endswith("> 0")
    assert "service" in rule["expr"] and "subject" in rule["expr"]
    assert "dead-letters" in rule["annotations"]["description"]


def test_every_metric_an_alert_queries_is_exported() -> None:
    exported = _exported()
    for rule in _rules():
        names = {n for n in re.findall(r"\b([a-z_][a-z0-9_]*)\s*(?=[\[{])", rule["expr"]) if n not in PROMQL_FUNCTIONS}
        assert names and names <= exported, (rule["alert"], names - exported)


def test_prometheus_loads_the_rules_and_compose_mounts_them() -> None:
    config = yaml.safe_load((REPO / "deploy" / "prometheus.yml").read_text())
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    assert "./deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro" in compose["services"]["prometheus"]["volumes"]
