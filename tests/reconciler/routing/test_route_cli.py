"""`kubernaut route FILE [--config] [--uid] [--tekton-available/--no-tekton]`."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from kubernaut.cli import app
from reconciler.routing import derived_uid, percentage_bucket

ROOT = Path(__file__).resolve().parents[3]
GITOPS = str(ROOT / "examples" / "gitops-pr.yaml")
PARALLEL = str(ROOT / "examples" / "parallel-dependent.yaml")
SINGLE = str(ROOT / "examples" / "single-action.yaml")
CONFIG = ROOT / "deploy" / "config"
runner = CliRunner()


def route(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["route", *args])
    return result.exit_code, result.stdout, result.stderr


def test_without_config_everything_runs_on_jobs() -> None:
    code, out, _ = route(GITOPS)
    assert (code, out) == (0, "payment-memory-fix: jobs (no rules; defaultEngine is jobs)\n")


def test_week1_sends_gitops_to_tekton() -> None:
    code, out, err = route(GITOPS, "--config", str(CONFIG / "routing-week1-gitops.yaml"))
    assert code == 0, err
    assert out == ("payment-memory-fix: tekton (rule 'gitops-on-tekton': "
                   "workflowType is 'gitops-pr-creation')\n")
    code, out, _ = route(SINGLE, "--config", str(CONFIG / "routing-week1-gitops.yaml"))
    assert out == "payment-scale-up: jobs (no rule matched; defaultEngine is jobs)\n"


def test_week3_explains_the_dependency_rule() -> None:
    code, out, _ = route(PARALLEL, "--config", str(CONFIG / "routing-week3-multistep.yaml"))
    assert (code, out) == (0, "payment-oom-mitigation: tekton (rule 'has-dependencies': steps have dependencies)\n")


def test_no_tekton_falls_back() -> None:
    code, out, _ = route(GITOPS, "--config", str(CONFIG / "routing-week7-full.yaml"), "--no-tekton")
    assert code == 0
    assert out.startswith("payment-memory-fix: jobs (no rules; defaultEngine is tekton; Tekton is not installed")
    assert "falling back to jobs" in out
    code, out, _ = route(GITOPS, "--config", str(CONFIG / "routing-week7-full.yaml"), "--tekton-available")
    assert out == "payment-memory-fix: tekton (no rules; defaultEngine is tekton)\n"


def test_uid_drives_percentage_rules(tmp_path: Path) -> None:
    config = tmp_path / "canary.yaml"
    config.write_text("apiVersion: kubernaut.ai/v1alpha1\nkind: RoutingPolicy\n"
                      "rules:\n  - name: canary\n    match: {percentage: 50}\n    engine: tekton\n")
    inside = next(u for u in (f"uid-{i}" for i in range(100)) if percentage_bucket(u) < 50)
    outside = next(u for u in (f"uid-{i}" for i in range(100)) if percentage_bucket(u) >= 50)
    _, out, _ = route(SINGLE, "--config", str(config), "--uid", inside)
    assert out == f"payment-scale-up: tekton (rule 'canary': uid bucket {percentage_bucket(inside)} < 50%)\n"
    _, out, _ = route(SINGLE, "--config", str(config), "--uid", outside)
    assert out.startswith("payment-scale-up: jobs (no rule matched")
    # Without --uid: derived from namespace/name, so the answer is the same on every run.
    expected = "tekton" if percentage_bucket(derived_uid("production", "payment-scale-up")) < 50 else "jobs"
    _, out, _ = route(SINGLE, "--config", str(config))
    assert out.startswith(f"payment-scale-up: {expected} ")


def test_metadata_uid_is_used_when_present(tmp_path: Path) -> None:
    config = tmp_path / "canary.yaml"
    config.write_text("apiVersion: kubernaut.ai/v1alpha1\nkind: RoutingPolicy\n"
                      "rules:\n  - name: canary\n    match: {percentage: 50}\n    engine: tekton\n")
    uid = next(u for u in (f"uid-{i}" for i in range(100)) if percentage_bucket(u) < 50)
    wf = tmp_path / "wf.yaml"
    wf.write_text(Path(SINGLE).read_text().replace("  namespace: production\n",
                                                   f"  namespace: production\n  uid: {uid}\n"))
    _, out, err = route(str(wf), "--config", str(config))
    assert out.startswith("payment-scale-up: tekton (rule 'canary'"), err


def test_spec_engine_override_is_reported(tmp_path: Path) -> None:
    wf = tmp_path / "wf.yaml"
    wf.write_text(Path(SINGLE).read_text().replace("  workflowType: single-action\n",
                                                   "  workflowType: single-action\n  engine: jobs\n"))
    code, out, err = route(str(wf), "--config", str(CONFIG / "routing-week7-full.yaml"))
    assert (code, out) == (0, "payment-scale-up: jobs (spec.engine is 'jobs')\n"), err


def test_invalid_config_exits_1_with_located_diagnostics(tmp_path: Path) -> None:
    bad = tmp_path / "routing.yaml"
    bad.write_text("apiVersion: kubernaut.ai/v1alpha1\nkind: RoutingPolicy\ndefaultEngine: argo\n")
    code, out, err = route(GITOPS, "--config", str(bad))
    assert code == 1 and out == ""
    assert f"{bad}:3:16: error[KN007]: defaultEngine: 'argo' is not allowed" in err
    assert "3 | defaultEngine: argo" in err
    assert "1 error, 0 warnings" in err


def test_invalid_workflow_and_config_are_reported_together(tmp_path: Path) -> None:
    bad_wf = tmp_path / "wf.yaml"
    bad_wf.write_text(Path(SINGLE).read_text().replace("replicas: 10", "replicas: ten"))
    bad_cfg = tmp_path / "routing.yaml"
    bad_cfg.write_text("apiVersion: kubernaut.ai/v1alpha1\nkind: RoutingPolicy\nrulez: []\n")
    code, _, err = route(str(bad_wf), "--config", str(bad_cfg))
    assert code == 1
    assert "error[KN041]" in err and f"{bad_cfg}:3:1: error[KN005]" in err
    assert "2 errors, 0 warnings" in err


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert route(str(tmp_path / "missing.yaml"))[0] == 2
    assert route(GITOPS, "--config", str(tmp_path / "missing.yaml"))[0] == 2
    assert route()[0] == 2
    assert route(GITOPS, "--bogus")[0] == 2
