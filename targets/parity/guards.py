"""Guards in one normal form for both engines: ``<left> in|notin [<texts>]``.

Both engines compare texts (docs/architecture.md, "Guards"), so the normal form keeps texts:
``==``/``!=`` become ``in``/``notin`` of one value, literals become their ``to_text`` text, and
``$(workspace.path)`` (a constant) becomes ``/workspace``. A reference stays a reference:
``$(steps.S.outputs.K)`` or ``$(workflow.name|namespace|uid)``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from compiler.expressions import WORKSPACE_PATH, ExpressionError, Reference, parse_guard, to_text
from targets.parity.model import ManifestError

OPERATORS = {"==": "in", "!=": "notin", "in": "in", "notin": "notin"}


def normal_guard(left: str, is_reference: bool, operator: str, values: Sequence[str]) -> str:
    """``$(steps.a.outputs.x) in ["true"]`` / ``"text" notin ["a","b"]`` (literal left sides quoted)."""
    shown = left if is_reference else json.dumps(left, ensure_ascii=False)
    return f"{shown} {operator} {json.dumps(list(values), ensure_ascii=False)}"


def normal_from_source(source: str, where: str) -> str:
    """The normal form of a guard as written in a workflow (V1 keeps the source text)."""
    try:
        guard = parse_guard(source)
    except ExpressionError as exc:
        raise ManifestError(f"{where}: invalid guard {source!r}: {exc.message}") from None
    values = [to_text(v) for v in guard.values]
    left = guard.left
    if isinstance(left, Reference):
        if left.kind == "workspace":
            return normal_guard(WORKSPACE_PATH, False, OPERATORS[guard.op], values)
        return normal_guard(left.text(), True, OPERATORS[guard.op], values)
    return normal_guard(to_text(left.value), False, OPERATORS[guard.op], values)
