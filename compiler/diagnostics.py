"""Located, compiler-grade diagnostics.

Every problem the compiler finds is a :class:`Diagnostic` with a stable code (see
``compiler.codes``), a severity, a message, the ``file:line:col`` where it happened and a hint.
Rules never raise: they return diagnostics, and the front end collects all of them in one run.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    #: Information only (e.g. a document of another kind skipped): never fails a run.
    NOTE = "note"


@dataclass(frozen=True, order=True)
class Span:
    """A place in a source file. Lines and columns are 1-based; ``end_*`` is exclusive."""

    file: str
    line: int
    col: int
    end_line: int | None = None
    end_col: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def shifted(self, columns: int, width: int | None = None) -> Span:
        """The span ``columns`` characters further on the same line (for positions inside strings)."""
        col = self.col + columns
        end = col + width if width is not None else None
        return Span(self.file, self.line, col, self.line if end is not None else None, end)


@dataclass(frozen=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    span: Span | None = None
    hint: str | None = None
    # Other places that matter (for example the first definition of a duplicate).
    related: tuple[tuple[Span, str], ...] = field(default=())

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def headline(self) -> str:
        where = f"{self.span}: " if self.span else ""
        return f"{where}{self.severity.value}[{self.code}]: {self.message}"


def error(code: str, message: str, span: Span | None, hint: str | None = None,
          related: Iterable[tuple[Span, str]] = ()) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, message, span, hint, tuple(related))


def warning(code: str, message: str, span: Span | None, hint: str | None = None,
            related: Iterable[tuple[Span, str]] = ()) -> Diagnostic:
    return Diagnostic(code, Severity.WARNING, message, span, hint, tuple(related))


def note(code: str, message: str, span: Span | None, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, Severity.NOTE, message, span, hint)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def sort_key(d: Diagnostic) -> tuple[str, int, int, str]:
    if d.span is None:
        return ("", 0, 0, d.code)
    return (d.span.file, d.span.line, d.span.col, d.code)


# The line breaks YAML counts (positions come from it), so an excerpt shows the line it means.
_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")
# A longer source line is shown as a window of this many characters around the caret: one
# diagnostic per reference in an 80 KiB line would otherwise print the line thousands of times.
EXCERPT_WIDTH = 120


class _SourceLines:
    """Each source's lines, split on first use: once per file, not once per diagnostic."""

    def __init__(self, sources: Mapping[str, str]) -> None:
        self.sources = sources
        self.split: dict[str, list[str]] = {}

    def get(self, file: str) -> list[str] | None:
        if file not in self.split:
            text = self.sources.get(file)
            if text is None:
                return None
            lines = _LINE_BREAK.split(text)
            if lines[-1] == "":  # the text ends with a line break: no line after it (as str.splitlines)
                lines.pop()
            self.split[file] = lines
        return self.split[file]


def _excerpt(span: Span, sources: _SourceLines) -> list[str]:
    lines = sources.get(span.file)
    if lines is None or not 1 <= span.line <= len(lines):
        return []
    line_text = lines[span.line - 1].expandtabs(1)
    gutter = str(span.line)
    pad = " " * len(gutter)
    width = 1
    if span.end_line == span.line and span.end_col is not None and span.end_col > span.col:
        width = span.end_col - span.col
    width = max(1, min(width, max(1, len(line_text) - span.col + 1)))
    offset = span.col - 1
    if len(line_text) > EXCERPT_WIDTH:
        start = max(0, min(offset - EXCERPT_WIDTH // 3, len(line_text) - EXCERPT_WIDTH))
        end = start + EXCERPT_WIDTH
        width = max(1, min(width, end - offset))
        line_text = ("…" if start else "") + line_text[start:end] + ("…" if end < len(line_text) else "")
        offset += (1 if start else 0) - start
    caret = " " * offset + "^" * width
    return [f"{pad} |", f"{gutter} | {line_text}", f"{pad} | {caret}"]


def _render(d: Diagnostic, sources: _SourceLines) -> str:
    out = [d.headline()]
    if d.span is not None:
        out.extend(_excerpt(d.span, sources))
    for span, note in d.related:
        out.append(f"  = note: {span}: {note}")
    if d.hint:
        out.append(f"  = hint: {d.hint}")
    return "\n".join(out)


def render(d: Diagnostic, sources: Mapping[str, str]) -> str:
    """Render like a compiler: headline, source excerpt with a caret, related places, hint."""
    return _render(d, _SourceLines(sources))


def render_all(diagnostics: Iterable[Diagnostic], sources: Mapping[str, str]) -> str:
    lines = _SourceLines(sources)
    return "\n\n".join(_render(d, lines) for d in sorted(diagnostics, key=sort_key))
