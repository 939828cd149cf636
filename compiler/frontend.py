"""The compiler front end: files -> documents -> checked models -> IR, collecting every diagnostic."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from compiler import ir
from compiler.analysis import analyse
from compiler.build import build_ir
from compiler.contracts import Catalog, load_catalog
from compiler.diagnostics import Diagnostic, error, has_errors, note, sort_key
from compiler.rules import run_rules
from compiler.rules.context import RuleContext
from compiler.source import SourceDocument, load_documents
from compiler.structure import check_kind, other_kind, validate_model


@dataclass
class Unit:
    """One workflow document and what the front end made of it."""

    document: SourceDocument
    workflow: ir.Workflow | None
    diagnostics: list[Diagnostic]


@dataclass
class FrontendResult:
    units: list[Unit] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)  # all of them, sorted by place
    sources: dict[str, str] = field(default_factory=dict)  # file -> text, for excerpts

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)

    @property
    def workflows(self) -> list[ir.Workflow]:
        return [u.workflow for u in self.units if u.workflow is not None]


def check_document(doc: SourceDocument, catalog: Catalog, engines: Collection[str] | None = None) -> Unit | None:
    """The checked workflow of ``doc``; None for a document of another kind (skipped with a note).
    ``engines``: the names ``spec.engine`` may take besides ``auto`` (None: any well-formed name)."""
    if not doc.problems and other_kind(doc) is not None:
        return None
    diagnostics = [*doc.problems, *check_kind(doc)]
    model, problems = validate_model(doc)
    diagnostics.extend(problems)
    if model is None:
        return Unit(doc, None, diagnostics)
    analysis = analyse(doc, model)
    diagnostics.extend(analysis.diagnostics)
    ctx = RuleContext(doc, model, catalog, analysis, engines)
    diagnostics.extend(run_rules(ctx))
    workflow = None if has_errors(diagnostics) else build_ir(ctx)
    return Unit(doc, workflow, diagnostics)


def compile_source(file: str, raw: bytes, catalog: Catalog, engines: Collection[str] | None = None) -> FrontendResult:
    result = FrontendResult()
    docs, problems, text = load_documents(file, raw)
    result.sources[file] = text
    result.diagnostics.extend(problems)
    for doc in docs:
        unit = check_document(doc, catalog, engines)
        if unit is None:
            result.diagnostics.append(note("KN082", f"skipped a {other_kind(doc)} (not a WorkflowExecution)",
                                           doc.span(("kind",))))
            continue
        result.units.append(unit)
        result.diagnostics.extend(unit.diagnostics)
    result.diagnostics.sort(key=sort_key)
    return result


def _check_unique_names(result: FrontendResult) -> None:
    seen: dict[tuple[str | None, str], SourceDocument] = {}
    for unit in result.units:
        wf = unit.workflow
        if wf is None:
            continue
        key = (wf.namespace, wf.name)
        if key in seen:
            problem = error("KN011", f"two workflows are named '{wf.name}'", unit.document.span(("metadata", "name")),
                            "workflow names must be unique per namespace",
                            related=[(seen[key].span(("metadata", "name")), "first used here")])
            unit.diagnostics.append(problem)
            result.diagnostics.append(problem)
            unit.workflow = None
        else:
            seen[key] = unit.document


def compile_files(paths: Iterable[Path], contract_dirs: Iterable[Path] = (), *,
                  catalog: Catalog | None = None, engines: Collection[str] | None = None) -> FrontendResult:
    """Read, check and lower every workflow in ``paths``. Never raises on bad input. ``catalog``
    replaces the built-in one and ``contract_dirs`` (contracts read from images, say).
    ``engines`` are the names ``spec.engine`` may take besides ``auto`` (the CLI passes the
    registered engines); None accepts any well-formed name."""
    catalog, catalog_problems = (catalog, []) if catalog is not None else load_catalog(contract_dirs)
    total = FrontendResult(diagnostics=list(catalog_problems))
    for path in paths:
        name = str(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            total.diagnostics.append(error("KN002", f"cannot read '{name}': {exc.strerror or exc}", None))
            continue
        part = compile_source(name, raw, catalog, engines)
        total.units.extend(part.units)
        total.diagnostics.extend(part.diagnostics)
        total.sources.update(part.sources)
    _check_unique_names(total)
    total.diagnostics.sort(key=sort_key)
    return total
