"""``kubernaut task resolve-inputs`` / ``publish-outputs`` run exactly as the meta-Task runs them:
its command and args (array params spliced in), its env vars, Tekton's result files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from compiler import ir
from kubernaut.cli import app
from targets.tekton import pipeline_manifests
from targets.tekton.inputs_param import encode_inputs_param

STEPS = {s["name"]: s for s in pipeline_manifests(ir.Workflow(
    name="w", steps=(ir.Step(name="s", action_type="a", image="i", inputs={}),)))[0]["spec"]["steps"]}


def run_step(name: str, params: dict[str, Any], results: dict[str, Path]) -> Any:
    """Run a helper step: Tekton substitutes params and result paths, the kubelet runs command + args."""
    step = STEPS[name]

    def substitute(text: str) -> str:
        for key, value in params.items():
            if isinstance(value, str):
                text = text.replace(f"$(params.{key})", value)
        for key, path in results.items():
            text = text.replace(f"$(results.{key}.path)", str(path))
        return text

    args: list[str] = []
    for arg in step["args"]:
        array = arg[len("$(params."):-len("[*])")] if arg.endswith("[*])") else None
        args += list(params.get(array, [])) if array else [substitute(arg)]
    env = {e["name"]: substitute(e["value"]) for e in step["env"]}
    assert step["command"][0] == "kubernaut"
    return CliRunner().invoke(app, step["command"][1:] + args, env=env, catch_exceptions=False)


def identity(**params: Any) -> dict[str, Any]:
    # inputSchema: its default (no contract), which this harness does not apply by itself.
    return {"stepName": "consume", "workflowName": "wf", "workflowNamespace": "ns", "workflowUid": "u-1",
            "inputSchema": "", **params}


def test_resolve_inputs_writes_one_line_of_json(tmp_path: Path, monkeypatch: Any) -> None:
    out = tmp_path / "inputs.json"
    monkeypatch.setitem(STEPS["resolve-inputs"], "command",
                        [*STEPS["resolve-inputs"]["command"][:4], str(out), "--"])
    template = {"n": "$(steps.p.outputs.n)", "s": "$(workflow.namespace): $$(x) é\n"}
    result = run_step("resolve-inputs", identity(inputs=encode_inputs_param(template), upstreamSteps=["p"],
                                                 upstreamOutputs=['{"n":[1,"\\u0024"]}']),
                      {"failure": tmp_path / "failure"})
    assert result.exit_code == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert text.endswith("\n") and text.count("\n") == 1
    assert json.loads(text) == {"n": [1, "$"], "s": "ns: $(x) é\n"}


def test_resolve_inputs_fails_the_step_with_the_reason(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setitem(STEPS["resolve-inputs"], "command",
                        [*STEPS["resolve-inputs"]["command"][:4], str(tmp_path / "x.json"), "--"])
    result = run_step("resolve-inputs", identity(inputs=encode_inputs_param({"a": {"b": ["$(steps.p.outputs.q)"]}}),
                                                 upstreamSteps=["p"], upstreamOutputs=['{"n":1}']),
                      {"failure": tmp_path / "failure"})
    assert result.exit_code == 1
    assert "step 'consume': inputs.a.b[0]: step 'p' has no output 'q' (it produced: n)" in result.stderr
    # The `failure` result holds the bare reason (the engine's step message, V1's words).
    assert (tmp_path / "failure").read_text() == "inputs.a.b[0]: step 'p' has no output 'q' (it produced: n)\n"
    assert not (tmp_path / "x.json").exists()


def test_publish_outputs_writes_both_results(tmp_path: Path, monkeypatch: Any) -> None:
    source = tmp_path / "outputs.json"
    source.write_text('{"ready": true, "sha": "$abc"}\n', encoding="utf-8")
    monkeypatch.setitem(STEPS["publish-outputs"], "command",
                        [*STEPS["publish-outputs"]["command"][:4], str(source), "--"])
    results = {"outputs": tmp_path / "outputs", "guardValues": tmp_path / "guardValues",
               "failure": tmp_path / "failure"}
    result = run_step("publish-outputs", identity(guardKeys=["ready", "sha"]), results)
    assert result.exit_code == 0, result.stderr
    assert results["outputs"].read_text() == '{"ready":true,"sha":"\\u0024abc"}'
    assert json.loads(results["guardValues"].read_text()) == ["true", "$abc"]


def test_publish_outputs_rejects_large_outputs(tmp_path: Path, monkeypatch: Any) -> None:
    source = tmp_path / "outputs.json"
    source.write_text(json.dumps({"blob": "x" * 5000}), encoding="utf-8")
    monkeypatch.setitem(STEPS["publish-outputs"], "command",
                        [*STEPS["publish-outputs"]["command"][:4], str(source), "--"])
    results = {"outputs": tmp_path / "o", "guardValues": tmp_path / "g", "failure": tmp_path / "f"}
    result = run_step("publish-outputs", identity(), results)
    assert result.exit_code == 1
    assert "outputs exceed the 4096-byte termination-message limit" in result.stderr
    assert not results["outputs"].exists()


def test_publish_outputs_fails_when_a_required_output_is_missing(tmp_path: Path, monkeypatch: Any) -> None:
    source = tmp_path / "outputs.json"
    source.write_text('{"ready": true}\n', encoding="utf-8")
    monkeypatch.setitem(STEPS["publish-outputs"], "command",
                        [*STEPS["publish-outputs"]["command"][:4], str(source), "--"])
    results = {"outputs": tmp_path / "o", "guardValues": tmp_path / "g", "failure": tmp_path / "f"}
    # requiredOutputs reaches the helper through the args, after its own marker.
    result = run_step("publish-outputs", identity(guardKeys=["ready"], requiredOutputs=["ready", "sha"]), results)
    assert result.exit_code == 1
    assert result.stderr == ("kubernaut: step 'consume': step 'consume' did not produce output 'sha' "
                             "(read by later steps)\n")
    # The bare reason goes to the `failure` result: the engine shows it as the step's message.
    assert results["failure"].read_text() == "step 'consume' did not produce output 'sha' (read by later steps)\n"
    assert not results["outputs"].exists() and not results["guardValues"].exists()
    source.write_text('{"ready": true, "sha": "abc"}\n', encoding="utf-8")
    result = run_step("publish-outputs", identity(guardKeys=["ready"], requiredOutputs=["ready", "sha"]), results)
    assert result.exit_code == 0, result.stderr
    assert json.loads(results["outputs"].read_text()) == {"ready": True, "sha": "abc"}
