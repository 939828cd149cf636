"""The compile targets, declared once.

``kubernaut compile --target`` offers these, in this order (``--target all`` emits them so).
A target is a pure function ``IR -> manifests``; its optional ``check`` reports, as
diagnostics, what it cannot express before anything is emitted. Targets are the compiler side
of the engines (``reconciler.engines.registry``), which live above them: a target never knows
which engine runs its output.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from compiler import ir
from compiler.diagnostics import Diagnostic

from . import jobs, tekton
from .release import HELPER_IMAGE

__all__ = ["TARGETS", "CompileOptions", "CompileTarget", "TargetFn"]

TargetFn = Callable[[ir.Workflow], list[dict[str, Any]]]


@dataclass(frozen=True)
class CompileOptions:
    """Settings some targets take: ``helper_image`` runs the V2 helper steps."""

    helper_image: str = HELPER_IMAGE


@dataclass(frozen=True)
class CompileTarget:
    """``configure`` makes the target's compile function for the options; ``check`` lists what
    the target cannot express (None: it expresses every valid workflow); ``runs_helper_image``:
    its output pulls ``CompileOptions.helper_image``."""

    name: str
    configure: Callable[[CompileOptions], TargetFn]
    check: Callable[[ir.Workflow], list[Diagnostic]] | None = None
    runs_helper_image: bool = False


# The targets' modules are looked up when used, not here: targets.tekton loads lazily so that
# commands that compile nothing start fast.
def _jobs(options: CompileOptions) -> TargetFn:
    return jobs.compile_workflow


def _tekton(options: CompileOptions) -> TargetFn:
    return functools.partial(tekton.compile_workflow, options=tekton.TektonOptions(helper_image=options.helper_image))


def _tekton_check(wf: ir.Workflow) -> list[Diagnostic]:
    return tekton.check_workflow(wf)


#: The registration: one entry per target.
TARGETS: Final[tuple[CompileTarget, ...]] = (
    CompileTarget("jobs", _jobs),
    CompileTarget("tekton", _tekton, check=_tekton_check, runs_helper_image=True),
)
