"""An upstream catalog image runs unchanged on both engines: the vendored ``scale-replicas``
entry's own entrypoint script (``/scripts/remediate.sh``, the Dockerfile's ENTRYPOINT) reads
each parameter from its environment variable and drives ``kubectl`` (a fake one here)."""

from __future__ import annotations

from pathlib import Path

import pytest
from interface_harness import ENGINES, GOLDEN, UPSTREAM, final, image_entrypoint, install_image, load, run_workflow

# A kubectl that remembers the replica count in a file and logs every call.
FAKE_KUBECTL = """#!/bin/sh
echo "$*" >> "$KUBECTL_LOG"
state="$KUBECTL_STATE"
case "$1" in
  get)
    case "$*" in
      *readyReplicas*) cat "$state" ;;
      *spec.replicas*) cat "$state" ;;
      *) : ;;
    esac ;;
  scale)
    for arg in "$@"; do case "$arg" in --replicas=*) printf '%s' "${arg#--replicas=}" > "$state" ;; esac; done ;;
esac
exit 0
"""


@pytest.fixture
def fake_kubectl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(FAKE_KUBECTL)
    kubectl.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{__import__('os').environ['PATH']}")
    return tmp_path


@pytest.mark.parametrize("engine", ENGINES)
def test_scale_replicas_image_runs_unchanged(engine: str, fake_kubectl: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    entry = UPSTREAM / "scale-replicas"
    entrypoint = image_entrypoint(entry / "Dockerfile.exec")
    assert entrypoint == ["/scripts/remediate.sh"]
    local = install_image({"/scripts/remediate.sh": entry / "remediate.sh"}, tmp_path / "image")
    log, state = tmp_path / f"kubectl-{engine}.log", tmp_path / f"replicas-{engine}"
    state.write_text("3")
    monkeypatch.setenv("KUBECTL_LOG", str(log))
    monkeypatch.setenv("KUBECTL_STATE", str(state))
    doc = load(GOLDEN / "upstream-scale-replicas" / "workflow.yaml")
    sim = run_workflow(doc, engine, {"ScaleReplicas": [local[e] for e in entrypoint]}, [entry])
    wfe = final(sim, doc)
    assert wfe["status"]["phase"] == "Succeeded", wfe["status"]
    calls = log.read_text().splitlines()
    # The script saw TARGET_RESOURCE_NAME, TARGET_RESOURCE_NAMESPACE and SCALE_REPLICAS.
    assert "scale deployment/connection-leaker -n demo-db --replicas=0" in calls
    assert calls[0] == "get deployment/connection-leaker -n demo-db"
    assert state.read_text() == "0"
