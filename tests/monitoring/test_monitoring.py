"""deploy/monitoring: the PrometheusRule and the Grafana dashboard.

* Prometheus' own ``promtool check rules`` and ``promtool test rules`` (rule unit tests in
  ``promtool/rules-test.yaml``) on the PrometheusRule's ``spec``, extracted to a temporary file.
* Every metric an expression uses is one the code exports (``reconciler.metrics.Metrics``) or a
  recording rule of the file: a renamed metric cannot silently blind an alert or a panel.
* The metrics the alerts need and the controller now exports (leader, per-workflow deadline) are
  really set by the controller.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.metrics_core import Metric

from reconciler.app import AppConfig, install
from reconciler.clock import parse_rfc3339
from reconciler.cluster.memory import MemoryCluster
from reconciler.metrics import Metrics
from reconciler.service import ServiceConfig, serve
from reconciler.simulation import Simulation
from reconciler.simulation.outcomes import parse_outcomes
from reconciler.simulation.tekton import add_tekton
from reconciler.verification import ImagePolicy

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "deploy" / "monitoring"
RULE = MONITORING / "prometheusrule.yaml"
DASHBOARD = MONITORING / "dashboards" / "kubernaut-rollout.json"
UNIT_TESTS = Path(__file__).resolve().parent / "promtool" / "rules-test.yaml"

# PromQL words that look like metric names but are not.
_KEYWORDS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
                       "bool", "offset", "inf", "nan"})
_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects.

    Removes what can contain identifiers that are not metric names — strings, label matchers
    (``{...}``), ranges (``[...]``), grouping label lists (``by (...)`` and the like) and
    numbers with units — then keeps every identifier that is not a function call or keyword.
    """
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\$__\w+", " ", text)  # Grafana's macros
    names = set()
    for match in _IDENT.finditer(text):
        following = text[match.end():].lstrip()
        if following.startswith("(") or match.group() in _KEYWORDS:
            continue
        if match.start() > 0 and (text[match.start() - 1].isdigit() or text[match.start() - 1] == "."):
            continue  # the exponent or unit of a number (1e3, 5m)
        names.add(match.group())
    return names


def exported_names() -> set[str]:
    """Every series name ``Metrics`` exposes (counters with ``_total``, histograms' parts)."""
    names: set[str] = set()
    families: list[Metric] = list(Metrics().registry.collect())
    for family in families:
        if family.type == "counter":
            names |= {family.name + "_total", family.name + "_created"}
        elif family.type == "histogram":
            names |= {family.name + s for s in ("_bucket", "_sum", "_count", "_created")}
        else:
            names.add(family.name)
    return names


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULE.read_text())
    return [rule for group in document["spec"]["groups"] for rule in group["rules"]]


def dashboard_exprs() -> list[tuple[str, str]]:
    board = json.loads(DASHBOARD.read_text())
    return [(panel["title"], target["expr"]) for panel in board["panels"] for target in panel.get("targets", [])]


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing: .ci/run installs Debian's prometheus package")
        pytest.skip("promtool is not installed (Debian: apt-get install prometheus)")
    return found


@pytest.fixture
def rule_dir(tmp_path: Path) -> Path:
    """The PrometheusRule's spec as a plain Prometheus rule file, beside the unit tests."""
    spec = yaml.safe_load(RULE.read_text())["spec"]
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    shutil.copy(UNIT_TESTS, tmp_path / "rules-test.yaml")
    return tmp_path


# -- the rule file ----------------------------------------------------------------------------------


def test_promtool_check_rules(promtool: str, rule_dir: Path) -> None:
    done = subprocess.run([promtool, "check", "rules", "rules.yaml"], cwd=rule_dir, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(rules())} rules found" in done.stdout


def test_promtool_rule_unit_tests(promtool: str, rule_dir: Path) -> None:
    done = subprocess.run([promtool, "test", "rules", "rules-test.yaml"], cwd=rule_dir, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_the_issue_alerts_exist() -> None:
    alerts = {rule["alert"] for rule in rules() if "alert" in rule}
    assert {"KubernautV2SuccessRateBelowV1", "KubernautWorkflowStuck", "KubernautImageVerificationFailures",
            "KubernautControllerNotLeading", "KubernautReconcileErrors"} <= alerts
    for rule in rules():
        if "alert" in rule:
            assert rule["labels"]["severity"] in ("critical", "warning", "info")
            assert rule["annotations"]["summary"] and rule["annotations"]["runbook"] == "docs/operate.md#alerts"
    assert "## Alerts" in (ROOT / "docs" / "operate.md").read_text()


# -- every metric used exists ----------------------------------------------------------------------


def test_metric_name_extraction() -> None:
    expr = ('sum by (engine, le) (rate(kubernaut_workflow_duration_seconds_bucket{outcome="Succeeded",le!="x"}[5m]))'
            ' / ignoring (engine) group_left kubernaut:ratio:1h offset 1h > 1e3 and time() - foo_total > 300'
            ' or absent(kubernaut_leader) or on(pod) label_replace(up, "a", "$1", "b", "(.*)") < bool 0.5')
    assert metric_names(expr) == {"kubernaut_workflow_duration_seconds_bucket", "kubernaut:ratio:1h",
                                  "foo_total", "kubernaut_leader", "up"}
    assert metric_names("sum(increase(x_total[$__range])) / sum(rate(y_total[$__rate_interval]))") == {
        "x_total", "y_total"}


def test_every_metric_in_the_rules_is_exported_or_recorded() -> None:
    available = exported_names() | {rule["record"] for rule in rules() if "record" in rule}
    for rule in rules():
        used = metric_names(rule["expr"])
        assert used, rule
        assert used <= available, (rule.get("alert") or rule.get("record"), used - available)


def test_every_metric_in_the_dashboard_is_exported() -> None:
    available = exported_names()
    exprs = dashboard_exprs()
    assert len(exprs) >= 20
    for title, expr in exprs:
        used = metric_names(expr)
        assert used and used <= available, (title, used - available)


def test_dashboard_shows_v1_and_v2_side_by_side() -> None:
    board = json.loads(DASHBOARD.read_text())
    panels = [p for p in board["panels"] if p["type"] != "row"]
    pairs = 0
    for v1 in panels:
        if not v1["title"].startswith("V1 (jobs)"):
            continue
        twin = v1["title"].replace("V1 (jobs)", "V2 (tekton)", 1)
        v2 = next(p for p in panels if p["title"] == twin)
        assert v2["gridPos"]["y"] == v1["gridPos"]["y"] and v2["gridPos"]["x"] > v1["gridPos"]["x"]
        v1_exprs = [t["expr"] for t in v1["targets"]]
        assert [e.replace('engine="jobs"', 'engine="tekton"') for e in v1_exprs] == [t["expr"] for t in v2["targets"]]
        pairs += 1
    assert pairs >= 5
    assert len({p["id"] for p in board["panels"]}) == len(board["panels"])
    assert board["templating"]["list"][0]["type"] == "datasource"  # no hard-coded datasource uid


def test_kustomization_ships_the_rule_and_the_dashboard() -> None:
    kustomization = yaml.safe_load((MONITORING / "kustomization.yaml").read_text())
    assert kustomization["resources"] == ["prometheusrule.yaml"]
    generator = kustomization["configMapGenerator"][0]
    assert generator["files"] == ["dashboards/kubernaut-rollout.json"]
    assert generator["options"]["labels"]["grafana_dashboard"] == "1"
    # Not part of deploy/: applying the base must not need the Prometheus Operator's CRDs.
    base = yaml.safe_load((ROOT / "deploy" / "kustomization.yaml").read_text())
    assert not any("monitoring" in str(r) for r in base["resources"])
    kubectl = shutil.which("kubectl")
    if kubectl is not None:
        built = subprocess.run([kubectl, "kustomize", str(MONITORING)], capture_output=True, text=True, timeout=120,
                               check=False)
        assert built.returncode == 0, built.stderr
        kinds = sorted(d["kind"] for d in yaml.safe_load_all(built.stdout))
        assert kinds == ["ConfigMap", "PrometheusRule"]


# -- the new metrics are set by the controller -------------------------------------------------------


def sample(metrics: Metrics, metric: str, labels: dict[str, str] | None = None) -> float | None:
    return metrics.registry.get_sample_value(metric, labels or {})


WORKFLOW = {
    "apiVersion": "workflowexecution.kubernaut.ai/v1alpha1", "kind": "WorkflowExecution",
    "metadata": {"name": "slow", "namespace": "prod"},
    "spec": {"engine": "tekton", "timeout": "15m", "steps": [{
        "name": "wait", "actionType": "kubernaut/echo",
        "image": "ghcr.io/kubernaut/actions/echo@sha256:" + "0" * 64, "inputs": {}}]},
}


@pytest.mark.parametrize("engine", ["jobs", "tekton"])
def test_workflow_deadline_gauge_lives_while_the_workflow_runs(engine: str) -> None:
    outcomes = parse_outcomes("steps:\n  wait:\n    - {result: succeeded, duration: 5m}\n").outcomes
    sim = Simulation(outcomes=outcomes)
    add_tekton(sim)
    metrics = Metrics()
    install(sim.manager, AppConfig(image_policy=ImagePolicy("skip")), metrics=metrics)
    wfe = json.loads(json.dumps(WORKFLOW))
    wfe["spec"]["engine"] = engine
    sim.cluster.create(wfe)

    def status() -> dict[str, Any]:
        return sim.cluster.get(wfe["apiVersion"], wfe["kind"], "slow", "prod").get("status") or {}

    assert sim.run_until(lambda: status().get("phase") == "Running", 60)
    sim.manager.run_until_idle()
    start = parse_rfc3339(status()["startTime"]).timestamp()
    labels = {"namespace": "prod", "name": "slow", "engine": engine}
    assert sample(metrics, "kubernaut_workflow_deadline_timestamp_seconds", labels) == start + 15 * 60
    assert sim.run_until(lambda: status().get("phase") == "Succeeded", 3600)
    sim.manager.run_until_idle()
    assert sample(metrics, "kubernaut_workflow_deadline_timestamp_seconds", labels) is None


def test_leader_gauge_follows_the_lease() -> None:
    cluster = MemoryCluster(seed=3)
    stop = threading.Event()
    ready: list[Any] = []
    config = ServiceConfig(namespace="kubernaut-system", metrics_port=None, image_policy="skip", identity="a")
    thread = threading.Thread(target=serve, args=(cluster, config, stop), kwargs={"on_ready": ready.append},
                              daemon=True)
    thread.start()

    def wait_for(check: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 30
        while not check():
            assert time.monotonic() < deadline, "condition not reached in time"
            time.sleep(0.02)

    wait_for(lambda: bool(ready))
    metrics: Metrics = ready[0].metrics
    wait_for(lambda: sample(metrics, "kubernaut_leader") == 1)
    stop.set()
    thread.join(30)
    assert sample(metrics, "kubernaut_leader") == 0


