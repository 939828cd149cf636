"""The contract catalog: built-in contracts shipped with kubernaut plus user directories.

A directory may hold ``ActionContract`` documents and upstream ``RemediationWorkflow`` entries
(``compiler.contracts.upstream``), several per file; documents of other kinds (the entries' own
ServiceAccounts and ClusterRoles) are skipped with a note (KN082).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from compiler.contracts.model import CONTRACT_API_VERSION, CONTRACT_KIND, ActionContract
from compiler.contracts.upstream import (
    UPSTREAM_KIND,
    UnsupportedEntry,
    from_remediation_workflow,
    is_remediation_workflow,
)
from compiler.diagnostics import Diagnostic, error, note
from compiler.source import SourceDocument, load_documents


@dataclass(frozen=True)
class Catalog:
    contracts: Mapping[str, ActionContract] = field(default_factory=dict)

    def get(self, action_type: str) -> ActionContract | None:
        return self.contracts.get(action_type)

    def names(self) -> list[str]:
        return sorted(self.contracts)


def _upstream_path(path: tuple[Any, ...]) -> tuple[Any, ...]:
    """Where a field of a converted upstream entry sits in the entry itself."""
    head = path[:2]
    if head == ("spec", "inputs"):
        return ("spec", "parameters", *path[2:])
    if head == ("spec", "image"):
        return ("spec", "execution", "bundle")
    if head == ("spec", "serviceAccountName"):
        return ("spec", "execution", "serviceAccountName")
    if head in {("spec", "secrets"), ("spec", "configMaps")}:
        return ("spec", "dependencies", *path[1:2])
    if head == ("metadata", "name"):
        return ("spec", "actionType")
    if head == ("metadata", "version"):
        return ("spec", "version")
    return ("spec",) if path[:1] == ("spec",) else ()


def _contract(doc: SourceDocument) -> tuple[ActionContract | None, list[Diagnostic]]:
    """The contract of one document: an ActionContract, or an upstream RemediationWorkflow entry."""
    upstream = is_remediation_workflow(doc.data)
    try:
        if upstream:
            return from_remediation_workflow(doc.data), []
        return ActionContract.model_validate(doc.data), []
    except UnsupportedEntry as exc:
        return None, [error("KN081", str(exc), doc.span(("spec", "execution", "engine")),
                            "only job entries (an image with its own entrypoint) become contracts")]
    except ValidationError as exc:
        found: list[Diagnostic] = []
        for problem in exc.errors():
            path = tuple(problem["loc"])
            where = _upstream_path(path) if upstream else path
            what = "RemediationWorkflow entry" if upstream else "action contract"
            found.append(error("KN045", f"invalid {what}: {'.'.join(map(str, path))}: {problem['msg']}",
                               doc.span(where)))
        return None, found


def _other_kind(doc: SourceDocument) -> str | None:
    """The kind of a Kubernetes object that is neither a contract nor an upstream entry."""
    data = doc.data
    kind, api_version = data.get("kind"), data.get("apiVersion")
    if not isinstance(kind, str) or not isinstance(api_version, str):
        return None
    if kind in {CONTRACT_KIND, UPSTREAM_KIND} or api_version == CONTRACT_API_VERSION:
        return None  # ours: a wrong kind or version is reported, not skipped
    return kind


def _parse(file: str, raw: bytes) -> tuple[list[ActionContract], list[Diagnostic]]:
    docs, diagnostics, _ = load_documents(file, raw)
    found: list[ActionContract] = []
    for doc in docs:
        diagnostics.extend(doc.problems)
        if doc.problems:
            continue
        other = _other_kind(doc)
        if other is not None:
            diagnostics.append(note("KN082", f"skipped a {other} (not an action contract)", doc.span(("kind",))))
            continue
        contract, problems = _contract(doc)
        diagnostics.extend(problems)
        if contract is not None:
            found.append(contract)
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
