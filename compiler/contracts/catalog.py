"""The contract catalog: built-in contracts shipped with kubernaut plus user directories."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from compiler.contracts.model import ActionContract
from compiler.diagnostics import Diagnostic, error
from compiler.source import load_documents


@dataclass(frozen=True)
class Catalog:
    contracts: Mapping[str, ActionContract] = field(default_factory=dict)

    def get(self, action_type: str) -> ActionContract | None:
        return self.contracts.get(action_type)

    def names(self) -> list[str]:
        return sorted(self.contracts)


def _parse(file: str, raw: bytes) -> tuple[list[ActionContract], list[Diagnostic]]:
    docs, diagnostics, _ = load_documents(file, raw)
    found: list[ActionContract] = []
    for doc in docs:
        diagnostics.extend(doc.problems)
        if doc.problems:
            continue
        try:
            found.append(ActionContract.model_validate(doc.data))
        except ValidationError as exc:
            for problem in exc.errors():
                path = tuple(problem["loc"])
                diagnostics.append(error("KN045", f"invalid action contract: {'.'.join(map(str, path))}: "
                                         f"{problem['msg']}", doc.span(path)))
    return found, diagnostics


def _builtin_files() -> Iterable[tuple[str, bytes]]:
    folder = resources.files("compiler.contracts") / "builtin"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            yield f"<builtin>/{entry.name}", entry.read_bytes()


def load_catalog(extra_dirs: Iterable[Path] = ()) -> tuple[Catalog, list[Diagnostic]]:
    """Built-in contracts, then every ``*.yaml`` in ``extra_dirs`` (later ones override)."""
    contracts: dict[str, ActionContract] = {}
    diagnostics: list[Diagnostic] = []
    sources: list[tuple[str, bytes]] = list(_builtin_files())
    for folder in extra_dirs:
        if not folder.is_dir():
            diagnostics.append(error("KN045", f"contracts directory '{folder}' does not exist", None))
            continue
        sources.extend((str(p), p.read_bytes()) for p in sorted(folder.glob("*.y*ml")))
    for file, raw in sources:
        found, problems = _parse(file, raw)
        diagnostics.extend(problems)
        for contract in found:
            contracts[contract.action_type] = contract
    return Catalog(contracts), diagnostics
