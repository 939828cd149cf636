"""The parsed forms of the expression language: references, templates, guards and their errors.

These are plain frozen values. Parsing lives in ``parse.py``, run-time evaluation in ``resolve.py``;
both engines evaluate the same values with the same functions, which is what keeps V1 and V2
byte-identical.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias, Union

from compiler.diagnostics import Diagnostic, Span, error

# Any value JSON can carry. Outputs of actions and resolved inputs are of this type.
JSON: TypeAlias = Union[str, int, float, bool, list["JSON"], dict[str, "JSON"], None]  # noqa: UP007
# A literal of a guard: JSON scalars only (lists appear only as the right side of in/notin).
Scalar: TypeAlias = str | int | float | bool | None

REFERENCE_KINDS = ("step", "workflow", "workspace")
WORKFLOW_FIELDS = ("name", "namespace", "uid")
GUARD_OPERATORS = ("==", "!=", "in", "notin")
# Where the shared workspace is mounted, on both engines.
WORKSPACE_PATH = "/workspace"


@dataclass(frozen=True)
class Reference:
    """One ``$(...)`` reference.

    ``kind`` is ``"step"`` (``step`` and ``key`` name the output), ``"workflow"`` (``key`` is
    name, namespace or uid) or ``"workspace"`` (``key`` is ``"path"``). ``offset`` and ``length``
    locate the reference in the string it was parsed from, for diagnostics; they take no part in
    equality or hashing, so the same output referenced twice is one dependency.
    """

    kind: str
    step: str | None
    key: str
    offset: int = field(default=0, compare=False)
    length: int = field(default=0, compare=False)

    def text(self) -> str:
        """The canonical source form, e.g. ``$(steps.a.outputs.x)``."""
        if self.kind == "step":
            return f"$(steps.{self.step}.outputs.{self.key})"
        return f"$({self.kind}.{self.key})"

    def __str__(self) -> str:
        return self.text()


@dataclass(frozen=True)
class Template:
    """A string from a step's inputs, split into literal text and references.

    ``parts`` never holds two adjacent strings nor an empty string, and its text is already
    unescaped (``$$(`` became ``$(``), so ``"".join`` over the parts with references replaced by
    their values is the whole resolution rule for an interpolated string.
    """

    source: str
    parts: tuple[str | Reference, ...]

    @property
    def whole(self) -> Reference | None:
        """The reference when the string is exactly one reference (it then keeps its JSON type)."""
        if len(self.parts) == 1 and isinstance(self.parts[0], Reference):
            return self.parts[0]
        return None

    @property
    def references(self) -> tuple[Reference, ...]:
        return tuple(p for p in self.parts if isinstance(p, Reference))


@dataclass(frozen=True)
class Literal:
    """A literal operand of a guard (a quoted string, a number, true, false or null)."""

    value: Scalar


@dataclass(frozen=True)
class Guard:
    """One ``when`` expression: ``left op values``.

    ``values`` has exactly one element for ``==`` and ``!=`` and at least one for ``in`` and
    ``notin``.
    """

    source: str
    left: Reference | Literal
    op: str
    values: tuple[Scalar, ...]

    @property
    def references(self) -> tuple[Reference, ...]:
        return (self.left,) if isinstance(self.left, Reference) else ()


class ExpressionError(Exception):
    """A malformed template or guard, located inside the string it was parsed from.

    ``offset`` is the 0-based character index of the problem in that string and ``length`` the
    number of characters it covers (0 for "something is missing at the end").
    """

    def __init__(self, code: str, message: str, offset: int, length: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.offset = offset
        self.length = length
        self.hint = hint

    def __repr__(self) -> str:
        return (f"ExpressionError({self.code!r}, {self.message!r}, offset={self.offset}, "
                f"length={self.length}, hint={self.hint!r})")

    def to_diagnostic(self, span: Span | None) -> Diagnostic:
        """A diagnostic located in the file, given the span of the string's first character."""
        where = span.shifted(self.offset, max(self.length, 1)) if span is not None else None
        return error(self.code, self.message, where, self.hint)
