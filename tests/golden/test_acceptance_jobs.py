"""Acceptance checks of the jobs target (issue 3), over the golden corpus and the examples,
through the real CLI."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.golden_contracts import contract_args

from targets.common.naming import is_dns1123_label
from targets.jobs import unescape_env_value
from targets.jobs.metadata import ACTION_TYPE, ATTEMPT, STEP, WORKFLOW

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "golden"
# A label value: at most 63 characters, alphanumerics at both ends, `-_.` inside.
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container["env"]}


def test_one_job_per_step_running_its_image_with_literal_inputs(source: Path,
                                                                compiled: Callable[..., Any]) -> None:
    out = compiled(source)
    assert out.exit_code == 0, out.stderr
    (wf,) = out.workflows
    jobs = out.kind("Job")
    assert [j["metadata"]["labels"][STEP] for j in jobs] == [s.name for s in wf.steps]
    for job, step in zip(jobs, wf.steps, strict=True):
        assert job["metadata"]["labels"][WORKFLOW] == wf.name
        assert job["metadata"]["labels"][ATTEMPT] == "1"
        assert job["metadata"]["annotations"][ACTION_TYPE] == step.action_type
        pod = job["spec"]["template"]
        assert pod["metadata"]["labels"] == job["metadata"]["labels"]
        (container,) = pod["spec"]["containers"]
        assert container["image"] == step.image
        env = _env(container)
        contract = wf.contracts.get(step.action_type)
        if contract is not None and contract.interface == "env":
            # Each declared input in its own variable: strings as they are, the rest as JSON.
            assert "command" not in container and "args" not in container
            for declared in contract.inputs or ():
                value = step.inputs.get(declared.name, "")
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                                        separators=(",", ":"))
                assert unescape_env_value(env[declared.name]) == text
            continue
        # What the container sees (after the kubelet's $(VAR) expansion) is the IR's inputs,
        # references still in their $(...) form, exactly.
        seen = unescape_env_value(env["ACTION_INPUTS"])
        assert json.loads(seen) == step.inputs
        assert seen == json.dumps(step.inputs, ensure_ascii=False, separators=(",", ":"))
        assert (env["KUBERNAUT_WORKFLOW"], env["KUBERNAUT_STEP"], env["KUBERNAUT_ATTEMPT"]) == (
            wf.name, step.name, "1")


def test_kubelet_expansion_cannot_alter_the_inputs(source: Path, compiled: Callable[..., Any]) -> None:
    # Every '$' is doubled, so no `$(NAME)` can match another variable and `$$` is not folded.
    for job in compiled(source).kind("Job"):
        env = _env(job["spec"]["template"]["spec"]["containers"][0])
        # ACTION_INPUTS, or each input's own variable (env actions).
        for name, value in env.items():
            if name == "ACTION_INPUTS" or not name.startswith("KUBERNAUT_"):
                assert re.search(r"(?<!\$)(\$\$)*\$(?!\$)", value) is None, name


def test_workspace_claim_exactly_when_a_step_uses_it(source: Path, compiled: Callable[..., Any]) -> None:
    out = compiled(source)
    (wf,) = out.workflows
    claims = out.kind("PersistentVolumeClaim")
    users = {s.name for s in wf.steps if s.uses_workspace}
    assert len(claims) == (1 if users else 0)
    for job in out.kind("Job"):
        pod = job["spec"]["template"]["spec"]
        mounted = [v for v in pod["volumes"] if "persistentVolumeClaim" in v]
        mounts = {m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
        if job["metadata"]["labels"][STEP] in users:
            assert [v["persistentVolumeClaim"]["claimName"] for v in mounted] == [claims[0]["metadata"]["name"]]
            assert "/workspace" in mounts
        else:
            assert mounted == [] and "/workspace" not in mounts


def test_names_and_labels_are_valid_and_distinct(source: Path, compiled: Callable[..., Any]) -> None:
    out = compiled(source)
    seen: set[tuple[str, str]] = set()
    for doc in out.docs:
        name = doc["metadata"]["name"]
        assert is_dns1123_label(name), name
        assert (doc["kind"], name) not in seen, f"two {doc['kind']} objects named {name}"
        seen.add((doc["kind"], name))
        for value in doc["metadata"]["labels"].values():
            assert len(value) <= 63 and LABEL_VALUE.fullmatch(value), value


def test_active_deadline_is_the_step_timeout(source: Path, compiled: Callable[..., Any]) -> None:
    out = compiled(source)
    (wf,) = out.workflows
    for job, step in zip(out.kind("Job"), wf.steps, strict=True):
        assert job["spec"]["activeDeadlineSeconds"] == step.timeout_seconds
        assert job["spec"]["backoffLimit"] == 0
        assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_explicit_timeouts_in_every_unit(compiled: Callable[..., Any]) -> None:
    out = compiled(GOLDEN / "retries-timeouts" / "workflow.yaml")
    assert [j["spec"]["activeDeadlineSeconds"] for j in out.kind("Job")] == [90, 5400, 45]
    assert [a["spec"]["retries"] for a in out.kind("ActionExecution")] == [3, 1, 0]


def test_git_clone_requests_come_from_its_contract(compiled: Callable[..., Any]) -> None:
    clones = [job for path in (GOLDEN / "seed-gitops-pr" / "workflow.yaml", ROOT / "examples" / "gitops-pr.yaml",
                               GOLDEN / "retries-timeouts" / "workflow.yaml")
              for job in compiled(path).kind("Job") if job["metadata"]["annotations"][ACTION_TYPE] == "git/clone"]
    assert len(clones) == 3
    for job in clones:
        resources = job["spec"]["template"]["spec"]["containers"][0]["resources"]
        assert resources["requests"] == {"cpu": "100m", "memory": "128Mi"}


def test_identical_bytes_on_a_second_run(tmp_path: Path, cli: Callable[..., Any]) -> None:
    run_cli = cli
    inputs = [str(case / "workflow.yaml") for case in sorted(GOLDEN.iterdir()) if (case / "workflow.yaml").exists()]
    contracts = contract_args(*(Path(p) for p in inputs))
    first, second = run_cli(["compile", *contracts, *inputs]), run_cli(["compile", *contracts, *inputs])
    assert first.exit_code == 0 and first.stdout == second.stdout
    trees = []
    for run in ("a", "b"):
        assert run_cli(["compile", *contracts, *inputs, "-o", str(tmp_path / run)]).exit_code == 0
        trees.append({p.relative_to(tmp_path / run): p.read_bytes()
                      for p in sorted((tmp_path / run).rglob("*")) if p.is_file()})
    assert trees[0] == trees[1]
    assert len(trees[0]) > len(inputs)


@pytest.mark.parametrize("existing", [False, True], ids=["new-dir", "existing-dir"])
def test_invalid_workflow_writes_nothing(tmp_path: Path, existing: bool, cli: Callable[..., Any]) -> None:
    run_cli = cli
    good = GOLDEN / "seed-gitops-pr" / "workflow.yaml"
    bad = tmp_path / "bad.yaml"
    bad.write_text(good.read_text().replace("runAfter:\n        - git-commit", "runAfter:\n        - git-comit"))
    out_dir = tmp_path / "out"
    before: dict[Path, bytes] = {}
    if existing:
        assert run_cli(["compile", str(good), "-o", str(out_dir)]).exit_code == 0
        before = {p: p.read_bytes() for p in out_dir.rglob("*") if p.is_file()}
    result = run_cli(["compile", str(good), str(bad), "-o", str(out_dir)])
    assert result.exit_code == 1
    assert f"{bad}:" in result.stderr and "error[KN020]" in result.stderr
    assert result.stdout == ""
    if existing:
        assert {p: p.read_bytes() for p in out_dir.rglob("*") if p.is_file()} == before
    else:
        assert not out_dir.exists()
