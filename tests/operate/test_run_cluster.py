"""``kubernaut run FILE --cluster``: the workflow is created in a cluster over HTTP and followed
there (watch), with the embedded run's progress, summary, ``--output json`` and exit codes; Ctrl-C
leaves it running unless ``--cancel-on-interrupt``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from operate_helpers import ECHO, ServedCluster, kubernaut, write

from compiler.spec import API_VERSION, KIND
from kubernaut.cli import cluster_run

WFE_PATH = "/apis/workflowexecution.kubernaut.ai/v1alpha1/namespaces/default/workflowexecutions"  # the file's
DOOMED = """\
apiVersion: workflowexecution.kubernaut.ai/v1alpha1
kind: WorkflowExecution
metadata: {name: doomed}
spec:
  steps:
    - name: doomed
      actionType: kubernaut/echo
      image: ghcr.io/kubernaut/actions/echo@sha256:0000000000000000000000000000000000000000000000000000000000000000
      inputs: {}
"""


@pytest.mark.parametrize("engine", ["jobs", "tekton"])
def test_run_in_the_cluster_follows_to_success(served_live: ServedCluster, engine: str) -> None:
    result = kubernaut("run", ECHO, "--cluster", "--engine", engine, *served_live.flags())
    assert result.code == 0, result.out + result.err
    lines = result.out.splitlines()
    assert lines[0] == "workflowexecution default/echo-data-passing created"
    assert any(line.endswith(f"workflow echo-data-passing running on engine {engine}") for line in lines)
    assert any(line.endswith("produce: Succeeded (attempt 1)") for line in lines)
    assert any(line.startswith("workflow echo-data-passing: Succeeded") for line in lines)
    assert 'outputs: {"count":3' in result.out
    requests = served_live.server.requests
    post = next(r for r in requests if r.method == "POST")
    assert post.url.path == WFE_PATH and json.loads(post.body)["spec"]["engine"] == engine
    assert any(r.url.path == WFE_PATH and r.params.get("watch") == "true" for r in requests)
    stored = served_live.memory.get(API_VERSION, KIND, "echo-data-passing", "default")
    assert stored["status"]["phase"] == "Succeeded"


def test_run_in_the_cluster_json_and_failure(served_live: ServedCluster, tmp_path: Path) -> None:
    doomed = write(tmp_path, "doomed.yaml", DOOMED)
    result = kubernaut("run", doomed, "--cluster", "--output", "json", *served_live.flags())
    assert result.code == 1
    final = json.loads(result.out)
    # No namespace in the file: the context's.
    assert final["metadata"]["namespace"] == "ops" and final["status"]["phase"] == "Failed"
    assert final["status"]["steps"][0]["message"].startswith("doomed to fail")
    again = kubernaut("run", doomed, "--cluster", *served_live.flags())
    assert (again.code, again.err) == (1, 'kubernaut: workflowexecution "doomed" already exists in namespace "ops": '
                                          "delete it or rename the workflow\n")


def test_namespace_flag_wins(served_live: ServedCluster) -> None:
    result = kubernaut("run", ECHO, "--cluster", "-n", "team-b", "--output", "json", *served_live.flags())
    assert result.code == 0, result.err
    assert json.loads(result.out)["metadata"]["namespace"] == "team-b"


@pytest.mark.parametrize("cancel", [False, True])
def test_interrupt_leaves_it_running_unless_asked_to_cancel(served: ServedCluster, cancel: bool,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(cluster_run, "follow_workflow", interrupted)
    flags = ["--cancel-on-interrupt"] if cancel else []
    result = kubernaut("run", ECHO, "--cluster", *flags, *served.flags())
    assert result.code == 130
    stored = served.memory.get(API_VERSION, KIND, "echo-data-passing", "default")
    if cancel:
        assert stored["spec"]["cancel"] is True
        assert result.err == "kubernaut: interrupted; cancel of default/echo-data-passing requested\n"
    else:
        assert "cancel" not in stored["spec"]
        assert "default/echo-data-passing keeps running in the cluster" in result.err


def test_embedded_only_flags_are_refused_with_cluster(tmp_path: Path) -> None:
    result = kubernaut("run", ECHO, "--cluster", "--save-state", tmp_path / "s.json", "--realtime")
    assert result.code == 2
    assert result.err == ("kubernaut: --realtime, --save-state apply to the embedded cluster only, "
                          "not with --cluster\n")
    alone = kubernaut("run", ECHO, "--cancel-on-interrupt")
    assert alone.code == 2 and "need --cluster" in alone.err


def test_logs_follow_waits_for_the_step_to_start(served: ServedCluster) -> None:
    """The command is already waiting (it has read the workflow twice) before anything runs."""
    import threading
    import time

    import yaml

    wfe = yaml.safe_load(ECHO.read_text())
    wfe["metadata"]["namespace"] = "ops"
    served.memory.create(wfe)
    path = WFE_PATH.replace("/default/", "/ops/") + "/echo-data-passing"

    def run_once_the_command_waits() -> None:
        deadline = time.monotonic() + 60
        while sum(r.url.path == path for r in served.server.requests) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        served.sim.run_until(lambda: (served.memory.get(API_VERSION, KIND, "echo-data-passing", "ops")
                                      .get("status") or {}).get("phase") == "Succeeded", 600)

    driver = threading.Thread(target=run_once_the_command_waits, daemon=True)
    driver.start()
    result = kubernaut("logs", "echo-data-passing", "--step", "consume", "-f", *served.flags())
    driver.join(60)
    assert result.code == 0, result.err
    assert json.loads(result.out)["summary"] == "sha=abc123 replicas=3"
    assert served.server.last().params.get("follow") == "true"
