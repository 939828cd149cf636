"""targets.common.security: restricted security contexts, fresh on every call."""

from __future__ import annotations

from support.pss import check_restricted

from targets.common.security import (
    restricted_container_security_context,
    restricted_pod_security_context,
)


def test_pod_context() -> None:
    assert restricted_pod_security_context() == {
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "runAsGroup": 65532,
        "fsGroup": 65532,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def test_container_context() -> None:
    assert restricted_container_security_context() == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "readOnlyRootFilesystem": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert restricted_container_security_context(read_only_root=False)["readOnlyRootFilesystem"] is False


def test_fresh_dicts_every_call() -> None:
    first = restricted_container_security_context()
    first["capabilities"]["drop"].append("X")
    first["seccompProfile"]["type"] = "Unconfined"
    assert restricted_container_security_context()["capabilities"] == {"drop": ["ALL"]}
    assert restricted_container_security_context()["seccompProfile"] == {"type": "RuntimeDefault"}
    pod = restricted_pod_security_context()
    pod["seccompProfile"]["type"] = "Unconfined"
    assert restricted_pod_security_context()["seccompProfile"] == {"type": "RuntimeDefault"}


def test_a_pod_using_them_passes_the_restricted_profile() -> None:
    pod_spec = {
        "securityContext": restricted_pod_security_context(),
        "containers": [{"name": "action", "image": "x",
                        "securityContext": restricted_container_security_context(False)}],
    }
    assert check_restricted(pod_spec) == []
    # Each context is enough on its own.
    assert check_restricted({"containers": [{"name": "a", "securityContext":
                                             restricted_container_security_context()}]}) == []
