"""State files: the embedded cluster's objects and container logs at the end of ``kubernaut run``.

``kubernaut run --save-state FILE`` writes one; ``get``, ``describe`` and ``logs --state FILE``
read it back through :class:`SavedState`, a read-only source with the API's list order and 404s,
so a failed local run can be inspected later or shared with a colleague. The file is JSON::

    {"apiVersion": "kubernaut.ai/v1alpha1", "kind": "KubernautState",
     "savedAt": "<RFC 3339: the run's clock when it was saved>",
     "objects": [<every object, managedFields left out>],
     "podLogs": [{"namespace", "pod", "container", "log"}]}

``savedAt`` is the "now" of ages read from the file: a state file answers the same way forever.
"""

from __future__ import annotations

import builtins
import copy
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..clock import parse_rfc3339, rfc3339
from ..cluster import JsonObject, NotFound, ObjectList
from ..cluster.base import LabelSelector
from ..cluster.selectors import selector_from

__all__ = ["STATE_API_VERSION", "STATE_KIND", "SavedState", "StateError", "load_state", "save_state", "snapshot"]

STATE_API_VERSION = "kubernaut.ai/v1alpha1"
STATE_KIND = "KubernautState"
PodLog = tuple[str, str, str, str]  # namespace, pod, container, text


class StateError(Exception):
    """A state file that cannot be read: the message names the file and the problem."""


def snapshot(objects: Iterable[JsonObject], pod_logs: Iterable[PodLog], saved_at: datetime) -> JsonObject:
    """The state document (deterministic: objects and logs in key order)."""
    kept = []
    for obj in objects:
        obj = copy.deepcopy(obj)
        obj.get("metadata", {}).pop("managedFields", None)  # server bookkeeping, and most of the bytes
        kept.append(obj)
    kept.sort(key=_key)
    logs = [{"namespace": ns, "pod": pod, "container": container, "log": text}
            for ns, pod, container, text in sorted(pod_logs)]
    return {"apiVersion": STATE_API_VERSION, "kind": STATE_KIND, "savedAt": rfc3339(saved_at),
            "objects": kept, "podLogs": logs}


def save_state(path: Path, objects: Iterable[JsonObject], pod_logs: Iterable[PodLog], saved_at: datetime) -> None:
    document = snapshot(objects, pod_logs, saved_at)
    path.write_text(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def _key(obj: JsonObject) -> tuple[str, str, str, str]:
    meta = obj.get("metadata") or {}
    return (str(obj.get("apiVersion")), str(obj.get("kind")), str(meta.get("namespace") or ""),
            str(meta.get("name") or ""))


@dataclass(frozen=True)
class SavedState:
    """A loaded state file; a read-only ``ReadSource``."""

    objects: tuple[JsonObject, ...]
    logs: dict[tuple[str, str, str], str] = field(default_factory=dict)
    saved_at: datetime | None = None
    origin: str = "<state>"

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> JsonObject:
        for obj in self.objects:
            meta = obj["metadata"]
            if (obj["apiVersion"], obj["kind"], meta.get("name")) == (api_version, kind, name) and (
                    namespace is None or not meta.get("namespace") or meta.get("namespace") == namespace):
                return copy.deepcopy(obj)
        raise NotFound(f'{kind} "{name}" not found')

    def list(self, api_version: str, kind: str, namespace: str | None = None,
             label_selector: LabelSelector = None) -> ObjectList:
        selector = selector_from(label_selector)
        items = [copy.deepcopy(o) for o in self.objects
                 if (o["apiVersion"], o["kind"]) == (api_version, kind)
                 and (namespace is None or o["metadata"].get("namespace") == namespace)
                 and selector.matches(o["metadata"].get("labels"))]
        items.sort(key=lambda o: (o["metadata"].get("namespace") or "", o["metadata"].get("name") or ""))
        return ObjectList(items, "0")

    def has_kind(self, api_version: str, kind: str) -> bool:
        return any((o["apiVersion"], o["kind"]) == (api_version, kind) for o in self.objects)

    def read_pod_log(self, namespace: str, pod: str, container: str | None = None) -> str:
        if container is None:
            container = next((c for (ns, p, c) in self.logs if (ns, p) == (namespace, pod)), None)
        text = self.logs.get((namespace, pod, container or ""))
        if text is None:
            raise NotFound(f'no log of container "{container}" in pod "{pod}" in {self.origin}')
        return text


def load_state(path: Path) -> SavedState:
    """Read a state file; StateError with ``path: problem`` when it is not one."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StateError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StateError(f"{path}: cannot read: {exc}") from None
    try:
        document = json.loads(text)
    except ValueError as exc:
        where = f"{path}:{getattr(exc, 'lineno', 1)}:{getattr(exc, 'colno', 1)}"
        raise StateError(f"{where}: not JSON: {getattr(exc, 'msg', exc)} "
                         "(a state file is written by kubernaut run --save-state)") from None
    if not isinstance(document, dict) or document.get("kind") != STATE_KIND:
        raise StateError(f"{path}: not a kubernaut state file (expected kind {STATE_KIND}; "
                         "write one with kubernaut run --save-state)")
    objects = document.get("objects")
    logs = document.get("podLogs") or []
    if not isinstance(objects, builtins.list) or not all(_is_object(o) for o in objects):
        raise StateError(f"{path}: 'objects' must be a list of Kubernetes objects")
    if not isinstance(logs, builtins.list) or not all(_is_log(entry) for entry in logs):
        raise StateError(f"{path}: 'podLogs' must be a list of {{namespace, pod, container, log}}")
    saved_at = None
    if document.get("savedAt"):
        try:
            saved_at = parse_rfc3339(str(document["savedAt"]))
        except ValueError:
            raise StateError(f"{path}: savedAt is not an RFC 3339 time: {document['savedAt']!r}") from None
    return SavedState(tuple(objects), {(e["namespace"], e["pod"], e["container"]): e["log"] for e in logs},
                      saved_at, str(path))


def _is_object(value: Any) -> bool:
    return (isinstance(value, dict) and isinstance(value.get("apiVersion"), str) and isinstance(value.get("kind"), str)
            and isinstance(value.get("metadata"), dict) and isinstance(value["metadata"].get("name"), str))


def _is_log(value: Any) -> bool:
    keys = ("namespace", "pod", "container", "log")
    return isinstance(value, dict) and all(isinstance(value.get(k), str) for k in keys)
