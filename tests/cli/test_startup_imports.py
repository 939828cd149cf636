"""Commands start without loading what they do not use.

``kubernaut task resolve-inputs|publish-outputs`` run twice per V2 step, so the console script
(``kubernaut.__main__``) must not load Typer, the other commands, the reconciler or the
Kubernetes client for them; any other command loads its own module only, not the ones that
bring in the cluster client. Each test runs the entry point in a fresh interpreter and lists the
modules it loaded; how long that takes is measured by benchmarks/bench_startup.py, not here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from targets.tekton import interface as i
from targets.tekton.inputs_param import encode_inputs_param

# Runs the console script's entry point with argv[2:], then reports the exit status and modules.
PROBE = r"""
import json, sys
report, sys.argv = sys.argv[1], ["kubernaut", *sys.argv[2:]]
from kubernaut.__main__ import main
try:
    main()
    code = 0
except SystemExit as exc:
    code = exc.code
with open(report, "w") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("typer", "click", "kubernetes", "reconciler", "kubernaut.cli", "urllib3", "networkx", "deepdiff")


def entry_point(tmp_path: Path, args: list[str], env: dict[str, str]) -> dict[str, Any]:
    report = tmp_path / "report.json"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("KUBERNAUT_", "RESULTS_"))}
    done = subprocess.run([sys.executable, "-c", PROBE, str(report), *args], env={**base, **env},
                          capture_output=True, text=True, timeout=120, check=False)
    result: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    result["stderr"] = done.stderr
    return result


def loaded(modules: list[str], name: str) -> bool:
    return any(m == name or m.startswith(name + ".") for m in modules)


IDENTITY = {i.ENV_STEP: "consume", i.ENV_WORKFLOW_NAME: "wf", i.ENV_WORKFLOW_NAMESPACE: "ns",
            i.ENV_WORKFLOW_UID: "u-1"}


def test_resolve_inputs_loads_no_cli_framework_and_no_cluster_client(tmp_path: Path) -> None:
    out = tmp_path / "inputs.json"
    env = {**IDENTITY, i.ENV_INPUTS: encode_inputs_param({"n": "$(steps.p.outputs.n)"})}
    result = entry_point(tmp_path, ["task", "resolve-inputs", "--out", str(out), "--",
                                    i.ARG_UPSTREAM_STEPS, "p", i.ARG_UPSTREAM_OUTPUTS, '{"n":3}'], env)
    assert result["code"] == 0, result["stderr"]
    assert json.loads(out.read_text(encoding="utf-8")) == {"n": 3}
    assert [name for name in HEAVY if loaded(result["modules"], name)] == []
    # Without a contract to check, not even the IR's models (pydantic) are needed.
    assert not loaded(result["modules"], "pydantic")


def test_publish_outputs_loads_no_cli_framework_and_no_cluster_client(tmp_path: Path) -> None:
    stdout = tmp_path / "stdout"
    stdout.write_text('{"ok": true}\n', encoding="utf-8")
    env = {i.ENV_RESULTS_OUTPUTS_PATH: str(tmp_path / "outputs"), i.ENV_RESULTS_GUARDS_PATH: str(tmp_path / "guards")}
    result = entry_point(tmp_path, ["task", "publish-outputs", "--from", str(stdout), "--",
                                    i.ARG_GUARD_KEYS, "ok", i.ARG_REQUIRED_OUTPUTS, "ok"], env)
    assert result["code"] == 0, result["stderr"]
    assert json.loads((tmp_path / "outputs").read_text(encoding="utf-8")) == {"ok": True}
    assert [name for name in HEAVY if loaded(result["modules"], name)] == []
    assert not loaded(result["modules"], "pydantic")


def test_a_failing_step_exits_1_through_the_light_path(tmp_path: Path) -> None:
    stdout = tmp_path / "stdout"
    stdout.write_text("not json\n", encoding="utf-8")
    env = {i.ENV_RESULTS_OUTPUTS_PATH: str(tmp_path / "outputs"), i.ENV_RESULTS_GUARDS_PATH: str(tmp_path / "guards"),
           i.ENV_STEP: "s"}
    result = entry_point(tmp_path, ["task", "publish-outputs", "--from", str(stdout)], env)
    assert result["code"] == 1
    assert result["stderr"].startswith("kubernaut: step 's': ")
    assert not loaded(result["modules"], "typer")


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert entry_point(tmp_path, ["task", "resolve-inputs"], {})["code"] == 2  # --out and the rest missing
    assert entry_point(tmp_path, ["task", "no-such-step"], {})["code"] == 2


def test_other_commands_still_load_the_full_command_line(tmp_path: Path) -> None:
    result = entry_point(tmp_path, ["--help"], {})
    assert result["code"] == 0
    assert loaded(result["modules"], "typer") and loaded(result["modules"], "kubernaut.cli.commands")


def test_validate_loads_its_own_command_only(tmp_path: Path) -> None:
    result = entry_point(tmp_path, ["validate", str(ROOT / "examples" / "echo-data-passing.yaml")], {})
    assert result["code"] == 0, result["stderr"]
    commands = sorted(m for m in result["modules"] if m.startswith("kubernaut.cli.commands."))
    assert commands == ["kubernaut.cli.commands.task", "kubernaut.cli.commands.validate"]
    assert not loaded(result["modules"], "kubernetes")


def test_the_application_object_has_every_command() -> None:
    from kubernaut.cli import app
    from kubernaut.cli.commands import MODULES

    callbacks = [c.callback for c in app.registered_commands]
    callbacks += [c.callback for g in app.registered_groups for c in g.typer_instance.registered_commands]
    assert {callback.__module__.rsplit(".", 1)[-1] for callback in callbacks if callback} == set(MODULES)
