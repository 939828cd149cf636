"""``kubernaut compile`` behaves like the standard tools: stdout, -o DIR + kustomization, exit codes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.frontend import compile_files
from kubernaut.cli.commands import compile_ as compile_command

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "golden"
GITOPS = GOLDEN / "seed-gitops-pr" / "workflow.yaml"
FAN_OUT = GOLDEN / "wide-fan-out" / "workflow.yaml"
Cli = Callable[[list[str]], Any]


def _files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_output_dir_holds_one_file_per_resource_and_a_kustomization(tmp_path: Path, cli: Cli) -> None:
    stdout = cli(["compile", str(GITOPS), str(FAN_OUT)]).stdout
    result = cli(["compile", str(GITOPS), str(FAN_OUT), "-o", str(tmp_path)])
    assert result.exit_code == 0 and result.stdout == ""
    files = _files(tmp_path)
    assert {name.split("/")[0] for name in files} == {"payment-memory-fix", "wide-fan-out"}
    docs = []
    for workflow in ("payment-memory-fix", "wide-fan-out"):
        folder = tmp_path / workflow / "jobs"
        kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
        assert kustomization["apiVersion"] == "kustomize.config.k8s.io/v1beta1"
        assert kustomization["kind"] == "Kustomization"
        listed = kustomization["resources"]
        assert sorted(listed) == listed, "files sort in apply order"
        assert set(listed) == {p.name for p in folder.iterdir()} - {"kustomization.yaml"}
        for name in listed:
            (doc,) = yaml.safe_load_all((folder / name).read_text())
            kind, obj_name = doc["kind"].lower(), doc["metadata"]["name"]
            assert name.endswith(f"-{kind}-{obj_name}.yaml")
            docs.append(doc)
    # The directory holds exactly what stdout prints, in the same order.
    assert docs == list(yaml.safe_load_all(stdout))
    # 41 steps * 2 + 1 ServiceAccount = 83 files: the index is zero-padded to sort correctly.
    (first,) = (tmp_path / "wide-fan-out" / "jobs").glob("01-*")
    assert first.name.startswith("01-serviceaccount-kubernaut-kubernaut-echo-")


def test_output_dir_replaces_stale_files_and_keeps_others(tmp_path: Path, cli: Cli) -> None:
    folder = tmp_path / "payment-memory-fix" / "jobs"
    folder.mkdir(parents=True)
    (folder / "99-job-removed-step-1.yaml").write_text("stale\n")
    (tmp_path / "README.md").write_text("mine\n")
    assert cli(["compile", str(GITOPS), "-o", str(tmp_path)]).exit_code == 0
    assert not (folder / "99-job-removed-step-1.yaml").exists()
    assert (tmp_path / "README.md").read_text() == "mine\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "no staging left behind"


def test_emit_ir_prints_the_ir(tmp_path: Path, cli: Cli) -> None:
    result = cli(["compile", "--emit", "ir", str(GITOPS), str(FAN_OUT)])
    assert result.exit_code == 0
    expected = [wf.dump() for wf in compile_files([GITOPS, FAN_OUT]).workflows]
    assert list(yaml.safe_load_all(result.stdout)) == expected
    assert cli(["compile", "--emit", "ir", str(GITOPS), "-o", str(tmp_path)]).exit_code == 0
    assert yaml.safe_load((tmp_path / "payment-memory-fix" / "ir.yaml").read_text()) == expected[0]


def test_warnings_go_to_stderr_and_keep_exit_0(cli: Cli) -> None:
    result = cli(["compile", str(GOLDEN / "action-without-contract" / "workflow.yaml")])
    assert result.exit_code == 0
    assert "warning[KN043]" in result.stderr and "1 warning" in result.stderr
    assert "KN043" not in result.stdout and result.stdout.startswith("---\napiVersion: v1\n")


def test_clean_compile_prints_nothing_on_stderr(cli: Cli) -> None:
    assert cli(["compile", str(GITOPS)]).stderr == ""


def test_target_all_emits_jobs_then_tekton_per_workflow(tmp_path: Path, cli: Cli) -> None:
    both = cli(["compile", "--target", "all", str(GITOPS), str(FAN_OUT)])
    assert both.exit_code == 0, both.stderr
    expected = []
    for path in (GITOPS, FAN_OUT):
        for target in ("jobs", "tekton"):
            expected += list(yaml.safe_load_all(cli(["compile", "--target", target, str(path)]).stdout))
    assert list(yaml.safe_load_all(both.stdout)) == expected
    assert cli(["compile", "--target", "all", str(GITOPS), "-o", str(tmp_path)]).exit_code == 0
    assert sorted(p.name for p in (tmp_path / "payment-memory-fix").iterdir()) == ["jobs", "tekton"]
    assert (tmp_path / "payment-memory-fix" / "tekton" / "kustomization.yaml").exists()


@pytest.mark.parametrize("target", ["tekton", "all"])
def test_target_missing_from_the_table_is_a_usage_error(target: str, cli: Cli, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(compile_command.TARGETS, "tekton")
    result = cli(["compile", str(GITOPS), "--target", target, "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "target 'tekton' is not available" in result.stderr
    assert not (tmp_path / "out").exists()


def test_not_expressible_on_a_target_is_exit_1_and_writes_nothing(tmp_path: Path, cli: Cli) -> None:
    # An action that needs a writable root file system runs on Jobs but not in the meta-Task.
    contracts = tmp_path / "contracts"
    contracts.mkdir()
    contracts.joinpath("writable.yaml").write_text(
        "apiVersion: kubernaut.ai/v1alpha1\nkind: ActionContract\nmetadata: {name: kubernaut/echo}\n"
        "spec: {additionalInputs: true, outputsFromInputs: true, readOnlyRootFilesystem: false}\n")
    source = GOLDEN / "seed-single-action" / "workflow.yaml"
    echo = tmp_path / "echo.yaml"
    echo.write_text((GOLDEN / "chain-without-workspace" / "workflow.yaml").read_text())
    args = ["compile", str(source), str(echo), "--contracts", str(contracts)]
    jobs = cli([*args, "--target", "jobs"])
    assert jobs.exit_code == 0, jobs.stderr
    assert "readOnlyRootFilesystem: false" in jobs.stdout
    result = cli([*args, "--target", "all", "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert f"{echo}:" in result.stderr and "error[KN070]" in result.stderr
    assert not (tmp_path / "out").exists()


def test_usage_errors_exit_2(tmp_path: Path, cli: Cli) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("")
    assert cli(["compile", str(GITOPS), "-o", str(a_file)]).exit_code == 2
    assert cli(["compile", str(tmp_path / "missing.yaml")]).exit_code == 2
    assert cli(["compile", str(GITOPS), "--target", "argo"]).exit_code == 2


def test_same_name_in_two_namespaces_cannot_share_an_output_dir(tmp_path: Path, cli: Cli) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(GITOPS.read_text().replace("namespace: production", "namespace: staging"))
    assert cli(["compile", str(GITOPS), str(other)]).exit_code == 0  # fine on stdout
    result = cli(["compile", str(GITOPS), str(other), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and "two workflows are named 'payment-memory-fix'" in result.stderr
    assert not (tmp_path / "out").exists()


def test_console_script_entry_point(tmp_path: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", "from kubernaut.cli import main; main()", "compile", str(GITOPS)],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert (GOLDEN / "seed-gitops-pr" / "jobs.yaml").read_text(encoding="utf-8") == proc.stdout
