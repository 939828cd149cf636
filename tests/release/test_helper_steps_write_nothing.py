"""The helper image runs with a read-only root file system as a non-root user: ``kubernaut task
resolve-inputs`` and ``publish-outputs`` must write only to the volumes the meta-Task mounts (its
scratch volume and Tekton's result files), not to HOME, the working directory or /tmp.

Each helper step runs as its container would: a fresh ``python3`` process, the step's command,
args and env from the compiled meta-Task, ``PYTHONDONTWRITEBYTECODE`` as deploy/Dockerfile sets
it, and HOME, the working directory and TMPDIR on a directory nothing may write to. Permissions
cannot prove that (the tests may run as root), so a Python audit hook reports every file system
write outside the mounted volumes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from compiler import ir
from targets.tekton import interface as i
from targets.tekton import pipeline_manifests
from targets.tekton.inputs_param import encode_inputs_param

ROOT = Path(__file__).resolve().parents[2]

# Runs before kubernaut is imported; `argv[1]`: the directories writes may go to.
AUDIT = r"""
import os, sys
ALLOWED = [os.path.realpath(p) for p in sys.argv.pop(1).split(os.pathsep)]
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
MUTATING = {"os.mkdir", "os.rename", "os.replace", "os.remove", "os.rmdir", "os.chmod", "os.chown",
            "os.truncate", "os.symlink", "os.link", "os.utime", "tempfile.mkstemp", "tempfile.mkdtemp"}

def inside(path):
    real = os.path.realpath(os.fsdecode(path))
    return any(real == a or real.startswith(a + os.sep) for a in ALLOWED)

def hook(event, args):
    if event == "open":
        path, mode, flags = args
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool((flags or 0) & WRITE_FLAGS)
        paths = [path] if writing and isinstance(path, (str, bytes, os.PathLike)) else []
    elif event in MUTATING:
        paths = [a for a in args[:2] if isinstance(a, (str, bytes, os.PathLike))]
    else:
        return
    for path in paths:
        if not inside(path):
            os.write(2, f"AUDIT: {event} writes {os.fsdecode(path)}\n".encode())

sys.addaudithook(hook)
sys.argv[0] = "kubernaut"
from kubernaut.cli import main
main()
"""

TASK = pipeline_manifests(ir.Workflow(name="w", steps=(ir.Step(name="s", action_type="a", image="i", inputs={}),)))[0]
STEPS = {s["name"]: s for s in TASK["spec"]["steps"]}
RESULTS = [r["name"] for r in TASK["spec"]["results"]]


def dockerfile_env() -> dict[str, str]:
    """The ENV the image sets for its Python (what the helper steps run with)."""
    text = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert "PYTHONDONTWRITEBYTECODE=1" in text
    return {"PYTHONDONTWRITEBYTECODE": "1"}


@pytest.fixture
def pod(tmp_path: Path) -> Iterator[dict[str, Path]]:
    """A read-only "root" (HOME, cwd, TMPDIR) and the two volumes a helper step may write."""
    dirs = {name: tmp_path / name for name in ("root", "scratch", "results")}
    for path in dirs.values():
        path.mkdir()
    yield dirs
    dirs["root"].chmod(0o755)


def run_helper(name: str, params: dict[str, Any], dirs: dict[str, Path],
               allowed: list[Path] | None = None) -> subprocess.CompletedProcess[str]:
    """Run helper step ``name`` with ``params``; writes may go to ``allowed`` (default: the volumes)."""
    step = STEPS[name]

    def substitute(text: str) -> str:
        text = text.replace(i.SCRATCH_DIR + "/", f"{dirs['scratch']}/")
        for key, value in params.items():
            if isinstance(value, str):
                text = text.replace(f"$(params.{key})", value)
        for result in RESULTS:
            text = text.replace(f"$(results.{result}.path)", str(dirs["results"] / result))
        return text

    args = [substitute(a) for a in step["command"][1:]]
    for arg in step["args"]:
        array = arg[len("$(params."):-len("[*])")] if arg.endswith("[*])") else None
        args += list(params.get(array, [])) if array else [substitute(arg)]
    root = dirs["root"]
    root.chmod(0o555)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(root), "TMPDIR": str(root),
           "LANG": "C.UTF-8", **dockerfile_env(), **{e["name"]: substitute(e["value"]) for e in step["env"]}}
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    writable = os.pathsep.join(str(d) for d in (allowed or [dirs["scratch"], dirs["results"]]))
    return subprocess.run([sys.executable, "-c", AUDIT, writable, *args], cwd=root, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


# inputSchema: its default (no contract), which run_helper does not apply by itself.
IDENTITY = {"stepName": "consume", "workflowName": "wf", "workflowNamespace": "ns", "workflowUid": "u-1",
            "inputSchema": ""}


def test_resolve_inputs_writes_only_the_scratch_volume(pod: dict[str, Path]) -> None:
    params = {**IDENTITY, "inputs": encode_inputs_param({"n": "$(steps.p.outputs.n)"}), "upstreamSteps": ["p"],
              "upstreamOutputs": ['{"n":3}']}
    done = run_helper(i.STEP_RESOLVE, params, pod)
    assert done.returncode == 0, done.stderr
    assert "AUDIT" not in done.stderr, done.stderr
    assert json.loads((pod["scratch"] / "inputs.json").read_text()) == {"n": 3}
    assert list(pod["root"].iterdir()) == []


def test_publish_outputs_writes_only_the_result_files(pod: dict[str, Path]) -> None:
    (pod["scratch"] / "outputs.json").write_text('{"sha": "abc", "ok": true}\n')
    params = {"stepName": "produce", "guardKeys": ["ok"], "requiredOutputs": ["sha"]}
    done = run_helper(i.STEP_PUBLISH, params, pod)
    assert done.returncode == 0, done.stderr
    assert "AUDIT" not in done.stderr, done.stderr
    assert json.loads((pod["results"] / i.RESULT_OUTPUTS).read_text()) == {"sha": "abc", "ok": True}
    assert list(pod["root"].iterdir()) == []


def test_the_audit_sees_a_write_outside_the_volumes(pod: dict[str, Path]) -> None:
    # Guards the hook: result files that Tekton would place on the root file system are reported.
    (pod["scratch"] / "outputs.json").write_text("{}\n")
    on_root = pod["root"] / "results"
    on_root.mkdir()
    done = run_helper(i.STEP_PUBLISH, {"stepName": "produce", "guardKeys": [], "requiredOutputs": []},
                      {**pod, "results": on_root}, allowed=[pod["scratch"], pod["results"]])
    assert f"AUDIT: open writes {on_root / i.RESULT_OUTPUTS}" in done.stderr
