"""The fuzz oracle: one input through the front end, both targets and the parity checker.

:func:`check` is what every fuzz input goes through (the hypothesis tests and the campaign
script). It raises :class:`PropertyViolation` when the pipeline breaks a promise — a diagnostic
without ``file:line:col`` or a KN code, a target that fails on a workflow the front end accepted,
output that changes between two compiles of the same bytes, a parity difference — and lets any
other exception escape: that is a crash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

import targets.jobs
import targets.tekton
from compiler import ir
from compiler.contracts import Catalog
from compiler.diagnostics import Diagnostic, has_errors, render_all
from compiler.frontend import FrontendResult, compile_source
from compiler.yamlout import dump_documents
from kubernaut.cli import app
from targets.parity import compare_manifests

FILE = "fuzz.yaml"
_CODE = re.compile(r"KN\d{3}")
_YAML_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


class PropertyViolation(AssertionError):
    """The pipeline returned instead of crashing, but broke one of its promises."""


@dataclass(frozen=True)
class Outcome:
    """What one input did: ``ok`` (compiled to both targets, parity held) or the codes it got."""

    ok: bool
    codes: tuple[str, ...]
    workflows: int


def _unlocated(diagnostics: list[Diagnostic], lines: int) -> list[str]:
    bad = []
    for d in diagnostics:
        span = d.span
        if not _CODE.fullmatch(d.code):
            bad.append(f"bad code {d.code!r}: {d.headline()}")
        elif span is None or span.file != FILE:
            bad.append(f"no location: {d.headline()}")
        elif not (1 <= span.line <= lines and span.col >= 1):
            bad.append(f"location outside the file ({lines} lines): {d.headline()}")
    return bad


def _line_count(raw: bytes) -> int:
    """Lines as YAML counts them (it also breaks at CR, NEL, U+2028 and U+2029); bytes that are not
    UTF-8 are located by their byte lines."""
    try:
        return len(_YAML_BREAK.split(raw.decode("utf-8")))
    except UnicodeDecodeError:
        return raw.count(b"\n") + 1


def _frontend(raw: bytes, catalog: Catalog) -> FrontendResult:
    result = compile_source(FILE, raw, catalog)
    render_all(result.diagnostics, result.sources)  # the excerpts must render too
    bad = _unlocated(result.diagnostics, _line_count(raw))
    if bad:
        raise PropertyViolation("; ".join(bad))
    return result


def _source_documents(result: FrontendResult, wf: ir.Workflow) -> list[dict[str, Any]]:
    # As `kubernaut parity` does: the V1 model reads the workflow timeout from the source document.
    return [unit.document.data for unit in result.units if unit.workflow is wf]


Compiled = list[tuple[ir.Workflow, list[dict[str, Any]], list[dict[str, Any]]]]


def _emit(result: FrontendResult) -> tuple[str, Compiled]:
    """Both targets' manifests of every workflow, and their YAML text (for the determinism check)."""
    compiled: Compiled = []
    for wf in result.workflows:
        problems = targets.tekton.check_workflow(wf)
        bad = _unlocated(problems, len(_YAML_BREAK.split(result.sources[FILE])))
        if bad:
            raise PropertyViolation("tekton check: " + "; ".join(bad))
        if has_errors(problems):
            continue  # not expressible on Tekton: a located diagnostic, as promised
        compiled.append((wf, targets.jobs.compile_workflow(wf), targets.tekton.compile_workflow(wf)))
    text = dump_documents([doc for _, *pair in compiled for docs in pair for doc in docs])
    return text, compiled


def check(raw: bytes, catalog: Catalog, *, twice: bool = True) -> Outcome:
    """Run ``raw`` through everything; raise PropertyViolation (or crash) if a promise breaks.
    ``twice``: compile a valid input a second time and compare (determinism)."""
    result = _frontend(raw, catalog)
    codes = tuple(sorted({d.code for d in result.diagnostics}))
    if not result.ok:
        return Outcome(False, codes, 0)
    text, compiled = _emit(result)
    if twice and _emit(_frontend(raw, catalog))[0] != text:
        raise PropertyViolation("two compiles of the same input differ")
    for wf, jobs_docs, tekton_docs in compiled:
        source_docs = _source_documents(result, wf)
        differences = compare_manifests([*jobs_docs, *source_docs], tekton_docs, wf.name)
        if differences:
            raise PropertyViolation(f"parity: workflow '{wf.name}': " + "; ".join(map(str, differences)))
    return Outcome(True, codes, len(result.workflows))


def check_cli(path: Path, contract_dirs: list[Path]) -> tuple[int, ...]:
    """``kubernaut validate``, ``compile --target all`` and ``parity`` on ``path``, in-process: none
    may raise; validate and compile exit 0 or 1; parity (diff-like) exits 0 where compile
    succeeded, else 2 (the input is invalid, or Tekton cannot express it). Returns the exit codes."""
    contracts = [arg for d in contract_dirs for arg in ("--contracts", str(d))]
    codes: list[int] = []
    for command in (["validate", *contracts, str(path)], ["compile", "--target", "all", *contracts, str(path)],
                    ["parity", *contracts, str(path)]):
        result = CliRunner().invoke(app, command)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        allowed = (0, 1) if command[0] != "parity" else (0,) if codes[1] == 0 else (2,)
        if result.exit_code not in allowed:
            raise PropertyViolation(f"kubernaut {command[0]} exited {result.exit_code}: {result.output[-500:]}")
        codes.append(result.exit_code)
    return tuple(codes)
