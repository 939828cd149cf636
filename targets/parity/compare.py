"""Compare the two models and say, per step, what differs (deepdiff does the walking)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from deepdiff import DeepDiff

from targets.parity.jobs import jobs_model
from targets.parity.manifests import Manifest
from targets.parity.model import WorkflowModel
from targets.parity.tekton import tekton_model

# Fields whose value is a set, stored as {item: True}: an item present on one side only.
_SET_FIELDS = ("dependencies", "guards")
_MAX_SHOWN = 200


@dataclass(frozen=True)
class Difference:
    """One semantic difference; ``step`` is None for workflow-level fields."""

    step: str | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"step '{self.step}'" if self.step is not None else "workflow"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True) if not isinstance(value, str) else repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _field(path: Sequence[Any]) -> str:
    out = ""
    for item in path:
        out += f"[{item}]" if isinstance(item, int) else (f".{item}" if out else str(item))
    return out


def _difference(kind: str, path: list[Any], jobs: Any, tekton: Any) -> Difference:
    step: str | None = None
    if path and path[0] == "steps":
        if len(path) == 2:
            side = "jobs" if kind.endswith("removed") else "tekton"
            return Difference(str(path[1]), "", f"only on {side}")
        step, path = str(path[1]), path[2:]
    if kind.endswith("removed"):
        return Difference(step, _field(path), f"only on jobs: {_show(jobs)}")
    if kind.endswith("added"):
        return Difference(step, _field(path), f"only on tekton: {_show(tekton)}")
    return Difference(step, _field(path), f"jobs {_show(jobs)}, tekton {_show(tekton)}")


def _set_differences(jobs: WorkflowModel, tekton: WorkflowModel) -> list[Difference]:
    """Set-valued fields name each item present on one side only (deepdiff would show the set)."""
    found = []
    for name in jobs.steps.keys() & tekton.steps.keys():
        left, right = jobs.steps[name].as_dict(), tekton.steps[name].as_dict()
        for field in _SET_FIELDS:
            found += [Difference(name, field, f"{_show(item)} only on jobs") for item in left[field]
                      if item not in right[field]]
            found += [Difference(name, field, f"{_show(item)} only on tekton") for item in right[field]
                      if item not in left[field]]
    return found


def compare_models(jobs: WorkflowModel, tekton: WorkflowModel) -> list[Difference]:
    """Every difference between the models, workflow-level first, then by step and field."""
    excluded = [rf"root\['steps'\]\['[^']*'\]\['{field}'\]" for field in _SET_FIELDS]
    diff = DeepDiff(jobs.as_dict(), tekton.as_dict(), view="tree", verbose_level=2, exclude_regex_paths=excluded)
    found = [_difference(kind, item.path(output_format="list"), item.t1, item.t2)
             for kind, items in diff.items() for item in items]
    found += _set_differences(jobs, tekton)
    order = list(jobs.steps) + [s for s in tekton.steps if s not in jobs.steps]
    return sorted(found, key=lambda d: (d.step is not None, order.index(d.step) if d.step in order else 0,
                                        d.field, d.message))


def compare_manifests(jobs_docs: Sequence[Manifest], tekton_docs: Sequence[Manifest],
                      workflow: str) -> list[Difference]:
    """Parity of one workflow, from the two engines' manifests. Raises ManifestError."""
    return compare_models(jobs_model(jobs_docs, workflow), tekton_model(tekton_docs, workflow))
