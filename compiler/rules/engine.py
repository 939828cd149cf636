"""``spec.engine``: ``auto`` or the name of an engine the caller knows.

The compiler knows no engine (the registry is the controller's, above it): it checks that the
value is a well-formed name, and, when its caller passes the registered names
(``RuleContext.engines``: ``kubernaut validate``/``compile``/``run`` and the controller do), that
it is one of them, with a "did you mean" hint.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from compiler.diagnostics import Diagnostic, error
from compiler.didyoumean import did_you_mean
from compiler.rules.context import RuleContext
from compiler.spec import ENGINE_AUTO
from compiler.values import dns1123_label_problem

_PATH = ("spec", "engine")


def engine_name(ctx: RuleContext) -> Iterator[Diagnostic]:
    value = ctx.workflow.spec.engine
    if value == ENGINE_AUTO:
        return
    problem = dns1123_label_problem(value)
    if problem is not None:
        yield error("KN007", f"spec.engine: {problem}", ctx.doc.span(_PATH),
                    f"use '{ENGINE_AUTO}' or an engine's name")
        return
    if ctx.engines is None or value in ctx.engines:
        return
    allowed = [ENGINE_AUTO, *ctx.engines]
    yield error("KN007", f"spec.engine: '{value}' is not allowed; expected {_choices(allowed)}",
                ctx.doc.span(_PATH), did_you_mean(value, allowed))


def _choices(names: Sequence[str]) -> str:
    """``'auto', 'jobs' or 'tekton'``: how the messages of the schema's closed values read."""
    quoted = [f"'{name}'" for name in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
