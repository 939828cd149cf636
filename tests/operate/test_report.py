"""``kubernaut report``: the statistics against published and hand-computed values, the report
through the CLI (text, JSON, --since, the --max-regression gate) and over HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from operate_helpers import ServedCluster, kubernaut

from reconciler.inspect import build_report, newcombe_difference, parse_since, percentile, wilson_interval

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def stamp(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def wfe(name: str, engine: str, phase: str, *, seconds: float | None = None, workflow_type: str = "gitops-pr",
        started_hours_ago: float = 1.0, message: str = "") -> dict[str, Any]:
    start = NOW - timedelta(hours=started_hours_ago)
    status: dict[str, Any] = {"phase": phase, "engine": engine, "startTime": stamp(start)}
    if seconds is not None:
        status["completionTime"] = stamp(start + timedelta(seconds=seconds))
    if message:
        status["message"] = message
    return {"apiVersion": "workflowexecution.kubernaut.ai/v1alpha1", "kind": "WorkflowExecution",
            "metadata": {"name": name, "namespace": "prod", "creationTimestamp": stamp(start)},
            "spec": {"workflowType": workflow_type, "steps": []}, "status": status}


def fleet() -> list[dict[str, Any]]:
    """V1: 4 of 5 succeed (60/120/180/240 s); V2: 3 of 5 (100/200/300 s). Plus noise the report
    must count but not rate: a cancel, a running one, one outside a 1-day window."""
    items = [wfe(f"v1-{i}", "jobs", "Succeeded", seconds=s) for i, s in enumerate((60, 120, 180, 240))]
    items.append(wfe("v1-f", "jobs", "Failed", seconds=30, message="step 'clone' failed: timeout"))
    items += [wfe(f"v2-{i}", "tekton", "Succeeded", seconds=s) for i, s in enumerate((100, 200, 300))]
    items.append(wfe("v2-f1", "tekton", "Failed", seconds=10, message="step 'clone' failed: timeout"))
    items.append(wfe("v2-f2", "tekton", "Failed", seconds=10, workflow_type="scale",
                     message="image verification failed for x"))
    items.append(wfe("v2-c", "tekton", "Cancelled", seconds=5))
    items.append(wfe("v2-r", "tekton", "Running"))
    items.append(wfe("v1-old", "jobs", "Failed", seconds=5, started_hours_ago=72, message="old"))
    return items


# -- statistics -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("successes", "n", "low", "high"), [
    # Newcombe (1998a), Statistics in Medicine 17:857-872, Table I, method 3 (Wilson score).
    (81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718),
    # By hand: p = 0.8, n = 5, z = 1.959964: centre 0.669656, half-width 0.294120.
    (4, 5, 0.3755, 0.9638),
])
def test_wilson_interval(successes: int, n: int, low: float, high: float) -> None:
    got = wilson_interval(successes, n)
    assert got == (pytest.approx(low, abs=5e-5), pytest.approx(high, abs=5e-5))


@pytest.mark.parametrize(("a", "b", "low", "high"), [
    # Newcombe (1998b), Statistics in Medicine 17:873-890, Table II, method 10.
    ((56, 70), (48, 80), 0.0524, 0.3339), ((9, 10), (3, 10), 0.1705, 0.8090),
    ((6, 7), (2, 7), 0.0582, 0.8062), ((5, 56), (0, 29), -0.0381, 0.1926),
    # By hand from the Wilson intervals of 3/5 (0.23072, 0.88238) and 4/5 (0.37554, 0.96378).
    ((3, 5), (4, 5), -0.6040, 0.3098),
])
def test_newcombe_difference(a: tuple[int, int], b: tuple[int, int], low: float, high: float) -> None:
    got = newcombe_difference(a[0], a[1], b[0], b[1])
    assert got.difference == pytest.approx(a[0] / a[1] - b[0] / b[1])
    assert (got.low, got.high) == (pytest.approx(low, abs=5e-5), pytest.approx(high, abs=5e-5))


def test_percentile_interpolates_like_numpy() -> None:
    assert percentile([60, 120, 180, 240], 50) == 150
    assert percentile([60, 120, 180, 240], 95) == pytest.approx(231)  # 180 + 0.85 * 60
    assert percentile([7], 95) == 7
    with pytest.raises(ValueError):
        percentile([], 50)


def test_parse_since() -> None:
    assert parse_since("7d") == timedelta(days=7) and parse_since("90m") == timedelta(minutes=90)
    for bad in ("7", "-1d", "0h", "1y", ""):
        with pytest.raises(ValueError, match="use a positive number with s, m, h, d or w"):
            parse_since(bad)


# -- the report -----------------------------------------------------------------------------------


def test_report_numbers() -> None:
    report = build_report(fleet(), now=NOW, since=timedelta(days=1))
    v1, v2 = report.engines
    assert (v1.total, v1.succeeded, v1.failed, v1.cancelled, v1.unfinished) == (5, 4, 1, 0, 0)
    assert (v2.total, v2.succeeded, v2.failed, v2.cancelled, v2.unfinished) == (7, 3, 2, 1, 1)
    assert (v1.success_rate, v2.success_rate) == (0.8, 0.6)
    assert (v1.mean_seconds, v1.p50_seconds, v1.p95_seconds) == (150, 150, pytest.approx(231))
    assert (v2.mean_seconds, v2.p50_seconds, v2.p95_seconds) == (200, 200, pytest.approx(290))
    assert v2.failure_reasons == (("image verification failed for x", 1), ("step 'clone' failed: timeout", 1))
    i = report.overall.interval
    assert i is not None and i.difference == pytest.approx(-0.2)
    assert (i.low, i.high) == (pytest.approx(-0.6040, abs=5e-5), pytest.approx(0.3098, abs=5e-5))
    assert report.verdict.startswith("no significant difference between V2 and V1: V2 - V1 success rate -20.0 points")
    by_type = {(s.engine, s.workflow_type): s for s in report.by_type}
    assert by_type[("tekton", "scale")].failed == 1 and by_type[("tekton", "gitops-pr")].success_rate == 0.75
    everything = build_report(fleet(), now=NOW)
    assert everything.engines[0].total == 6  # the 3-day-old failure counts without --since


def test_report_cli_text_and_gate(tmp_path: Path) -> None:
    listing = tmp_path / "wfes.json"
    listing.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": fleet()}))
    base = ["report", "-f", listing, "--since", "1d", "--now", stamp(NOW)]
    result = kubernaut(*base)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "Rollout report (last 1d): 12 workflow(s)"
    assert any(line.split()[:8] == ["V1", "jobs", "(all)", "5", "4", "1", "0", "0"] and "80.0% [37.6-96.4]" in line
               and line.endswith("2m30s   2m30s   3m51s") for line in lines)
    assert any(line.split()[:3] == ["V2", "tekton", "scale"] for line in lines)
    assert "  V2 tekton     1  image verification failed for x" in lines
    assert "  V1 jobs       1  step 'clone' failed: timeout" in lines
    assert lines[-1].startswith("Verdict: no significant difference between V2 and V1")
    gate = kubernaut(*base, "--max-regression", "10")
    assert gate.code == 1 and "gate FAIL (max regression 10 points)" in gate.out
    passing = kubernaut(*base, "--max-regression", "25")
    assert passing.code == 0 and "gate PASS" in passing.out


def test_report_cli_json(tmp_path: Path) -> None:
    listing = tmp_path / "wfes.yaml"
    listing.write_text(json.dumps(fleet()))  # a bare array is accepted too
    result = kubernaut("report", "-f", listing, "--output", "json", "--since", "1d", "--now", stamp(NOW),
                       "--max-regression", "5")
    assert result.code == 1
    data = json.loads(result.out)
    assert data["workflows"] == 12 and data["gateFailed"] is True and data["maxRegressionPercent"] == 5
    assert data["v2MinusV1"]["difference"] == pytest.approx(-0.2)
    assert data["v2MinusV1"]["method"].startswith("Newcombe")
    v1 = data["engines"][0]
    assert v1["engine"] == "jobs" and v1["timeToCompletionSeconds"] == {"mean": 150, "p50": 150, "p95": 231}


def test_report_without_data_for_both_engines(tmp_path: Path) -> None:
    listing = tmp_path / "only-v1.json"
    listing.write_text(json.dumps({"items": [wfe("a", "jobs", "Succeeded", seconds=3)]}))
    result = kubernaut("report", "-f", listing, "--max-regression", "1")
    assert result.code == 0
    assert result.out.splitlines()[-1] == ("Verdict: not enough data: V1 and V2 each need at least one finished "
                                           "workflow")


def test_report_input_errors(tmp_path: Path) -> None:
    assert kubernaut("report", "-f", tmp_path / "none.json").code == 2
    bad = tmp_path / "bad.json"
    bad.write_text("items: [1, 2]")
    result = kubernaut("report", "-f", bad)
    assert result.code == 1 and "expected a List of WorkflowExecutions" in result.err
    since = kubernaut("report", "-f", bad, "--since", "week")
    assert since.code == 2 and "invalid duration 'week'" in since.err


def test_report_reads_the_cluster_over_http(served: ServedCluster) -> None:
    for item in fleet():
        status = item.pop("status")
        created = served.memory.create(item)
        meta = created["metadata"]
        served.memory.patch_status(created["apiVersion"], created["kind"], meta["name"], meta["namespace"], status)
    result = kubernaut("report", "--output", "json", "--since", "1d", "--now", stamp(NOW), *served.flags())
    assert result.code == 0, result.err
    assert json.loads(result.out)["workflows"] == 12
    assert served.server.last().url.path == "/apis/workflowexecution.kubernaut.ai/v1alpha1/workflowexecutions"
