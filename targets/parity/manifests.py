"""Reading manifests as plain data: shape checks, lookups, and the kubelet's env expansion."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from compiler.values import parse_duration, whole_seconds
from targets.parity.model import ManifestError

Manifest = Mapping[str, Any]


def as_map(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ManifestError(f"{where} must be a mapping, not {type(value).__name__}")
    return value


def as_list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ManifestError(f"{where} must be a list, not {type(value).__name__}")
    return value


def as_int(value: Any, where: str, default: int = 0) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise ManifestError(f"{where} must be an integer, not {value!r}")
    return value


def kind_of(doc: Manifest) -> str:
    return str(doc.get("kind", ""))


def name_of(doc: Manifest) -> str:
    return str(as_map(doc.get("metadata"), "metadata").get("name", ""))


def labels_of(doc: Manifest) -> Mapping[str, Any]:
    return as_map(as_map(doc.get("metadata"), "metadata").get("labels"), "metadata.labels")


def of_kind(docs: Iterable[Manifest], kind: str) -> list[Manifest]:
    return [d for d in docs if kind_of(d) == kind]


def duration_seconds(text: Any, where: str) -> int | None:
    """A Go duration as whole seconds; None for "0s" (no timeout)."""
    if not isinstance(text, str):
        raise ManifestError(f"{where} must be a duration string, not {text!r}")
    if re.fullmatch(r"0+(?:\.0*)?[a-zµμ]*", text):
        return None
    seconds, problem = parse_duration(text)
    if seconds is None:
        raise ManifestError(f"{where}: {problem}")
    return whole_seconds(seconds)


_EXPANSION = re.compile(r"\$\$|\$\(([^)]*)\)")


def kubelet_expand(value: str, env: Mapping[str, str]) -> str:
    """What a container sees for an env ``value``: ``$$`` is ``$``, ``$(NAME)`` of a variable
    defined earlier in the container is its value, and any other ``$(...)`` stays as written
    (k8s.io/kubernetes third_party/forked/golang/expansion)."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env[name] if name in env else match.group(0)

    return _EXPANSION.sub(replace, value)


def container_env(container: Mapping[str, Any], where: str) -> dict[str, str]:
    """A container's env values, expanded in order as the kubelet does."""
    env: dict[str, str] = {}
    for item in as_list(container.get("env"), f"{where}.env"):
        entry = as_map(item, f"{where}.env[]")
        if "value" in entry:
            env[str(entry.get("name"))] = kubelet_expand(str(entry["value"]), env)
    return env


def read_only_sources(volumes: Any, where: str) -> dict[str, str]:
    """name -> "secret:<name>" / "configMap:<name>" of the Secret and ConfigMap volumes (a pod's
    ``volumes`` or a PipelineRun's workspace bindings: both spell them the same way)."""
    sources: dict[str, str] = {}
    for volume in as_list(volumes, where):
        volume = as_map(volume, f"{where}[]")
        if "secret" in volume:
            sources[str(volume.get("name"))] = f"secret:{as_map(volume['secret'], 'secret').get('secretName')}"
        elif "configMap" in volume:
            sources[str(volume.get("name"))] = f"configMap:{as_map(volume['configMap'], 'configMap').get('name')}"
    return sources
