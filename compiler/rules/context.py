"""What every rule receives: the document, the validated model, the catalog and the parsed expressions."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from functools import cached_property

from compiler.analysis import Analysis
from compiler.contracts import ActionContract, Catalog
from compiler.source import Path, SourceDocument
from compiler.spec import Step, WorkflowExecution


@dataclass
class RuleContext:
    doc: SourceDocument
    workflow: WorkflowExecution
    catalog: Catalog
    analysis: Analysis
    #: The engines ``spec.engine`` may name besides ``auto`` (the caller's registry); None: any
    #: well-formed name (the compiler knows no engine).
    engines: Collection[str] | None = None

    @property
    def steps(self) -> list[Step]:
        return self.workflow.spec.steps

    @cached_property
    def step_index(self) -> dict[str, int]:
        """First index of every step name (duplicates are reported by their own rule)."""
        index: dict[str, int] = {}
        for i, step in enumerate(self.steps):
            index.setdefault(step.name, i)
        return index

    def step_path(self, index: int, *rest: str | int) -> Path:
        return ("spec", "steps", index, *rest)

    def contract(self, step: Step) -> ActionContract | None:
        return self.catalog.get(step.actionType)

    def image(self, step: Step) -> str | None:
        """The step's image: its own, else the one its contract names (upstream entries)."""
        if step.image is not None:
            return step.image
        contract = self.contract(step)
        return contract.spec.image if contract is not None else None
