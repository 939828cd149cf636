"""``kubernaut route --unavailable ENGINE``: which engines a preview may take away, and the errors."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from kubernaut.cli import app as cli

ROOT = Path(__file__).resolve().parents[3]
GITOPS = ROOT / "examples" / "gitops-pr.yaml"
FULL = ROOT / "deploy" / "config" / "routing-week7-full.yaml"


def route(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["route", str(GITOPS), "--config", str(FULL), *args])
    return result.exit_code, result.stdout, result.stderr


def test_an_unavailable_engine_falls_back_and_the_others_stay() -> None:
    assert route() == (0, "payment-memory-fix: tekton (no rules; defaultEngine is tekton)\n", "")
    code, out, _ = route("--unavailable", "tekton")
    assert (code, out) == (0, "payment-memory-fix: jobs (no rules; defaultEngine is tekton; Tekton is not "
                              "installed (no tekton.dev CRDs): falling back to jobs)\n")


def test_an_unknown_engine_or_the_fallback_is_a_usage_error() -> None:
    code, out, err = route("--unavailable", "tektn")
    assert (code, out) == (2, "")
    assert err == ("kubernaut: --unavailable: no engine is called 'tektn' (engines that can be unavailable: "
                   "tekton); did you mean 'tekton'?\n")
    code, _, err = route("--unavailable", "jobs")
    assert code == 2 and "'jobs' needs nothing from the cluster, it is always available" in err


def test_the_old_flags_still_work_unlisted() -> None:
    assert route("--no-tekton")[1] == route("--unavailable", "tekton")[1]
    assert route("--tekton-available") == route()
    assert "--no-tekton" not in CliRunner().invoke(cli, ["route", "--help"]).stdout
