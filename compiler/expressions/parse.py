"""Compile-time parsing of templates (strings in inputs) and guards (``when`` entries).

The lark grammars (``template.lark``, ``guard.lark``, sharing ``reference.lark``) decide what is
valid. When lark rejects a string, the functions here only *explain* the rejection: they turn
lark's position into an :class:`ExpressionError` with a stable code, the exact offset and a hint.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterator, Mapping
from typing import cast

from lark import Lark, Token, Tree, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from compiler.expressions.model import (
    WORKFLOW_FIELDS,
    ExpressionError,
    Guard,
    Literal,
    Reference,
    Scalar,
    Template,
)

__all__ = [
    "escape_literal",
    "guard_parser",
    "is_plain",
    "iter_strings",
    "parse_guard",
    "parse_template",
    "parse_template_cached",
    "template_parser",
]

REFERENCE_FORMS = "$(steps.<step>.outputs.<key>), $(workflow.name|namespace|uid) and $(workspace.path)"
_NOT_A_REFERENCE_HINT = f"write '$$(' for a literal '$('; references are {REFERENCE_FORMS}"
_GUARD_SHAPES = ("a guard is '<reference or literal> == <literal>' (or '!='), or "
                 "'<reference or literal> in [<literal>, ...]' (or 'notin'), "
                 "e.g. \"$(steps.a.outputs.sha) in ['abc', 'def']\"")


# -- parsers (built once per process; Lark instances are immutable after construction) -----------

def _load(grammar: str) -> Lark:
    # open_from_package resolves the relative '%import .reference' from the package itself, so
    # the grammars also load from a wheel or a zipapp. The basic lexer suffices: every grammar
    # here is unambiguous at the token level, and it is the fastest lark offers.
    return Lark.open_from_package(__package__ or "compiler.expressions", grammar,
                                  parser="lalr", lexer="basic", cache=False)


@functools.cache
def template_parser() -> Lark:
    return _load("template.lark")


@functools.cache
def guard_parser() -> Lark:
    return _load("guard.lark")


@functools.cache
def _reference_regex() -> re.Pattern[str]:
    # Taken from the grammar so that "is this a valid reference?" has one definition only.
    return re.compile(template_parser().get_terminal("REFERENCE").pattern.to_regexp())


def _is_reference(text: str) -> bool:
    return _reference_regex().fullmatch(text) is not None


# -- small public helpers -----------------------------------------------------------------------

def is_plain(text: str) -> bool:
    """True when ``text`` has no ``$(`` at all, so it is its own value and needs no parsing."""
    return "$(" not in text


def escape_literal(text: str) -> str:
    """``text`` written so that it parses back to exactly ``text`` (every ``$(`` becomes ``$$(``).

    Note: the result must not be followed directly by a reference when ``text`` ends with ``$``
    (``$`` + ``$(...)`` reads as the escape ``$$(``); see docs/expressions.md.
    """
    return text.replace("$(", "$$(")


PathItem = str | int
InputPath = tuple[PathItem, ...]


def iter_strings(value: object, path: InputPath = ()) -> Iterator[tuple[InputPath, str]]:
    """Every string inside nested JSON with its path, in document order. Keys are not templates."""
    # An explicit stack instead of recursion: deeply nested input must not raise RecursionError.
    stack: list[tuple[InputPath, object]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, Mapping):
            children = [((*where, k if isinstance(k, str | int) else str(k)), v) for k, v in item.items()]
            stack.extend(reversed(children))
        elif isinstance(item, list | tuple):
            stack.extend(reversed([((*where, i), v) for i, v in enumerate(item)]))


# -- templates ----------------------------------------------------------------------------------

def _reference(token: str, offset: int) -> Reference:
    parts = token[2:-1].split(".")
    if parts[0] == "steps":  # steps.<step>.outputs.<key>
        return Reference("step", parts[1], parts[3], offset, len(token))
    return Reference(parts[0], None, parts[1], offset, len(token))


def parse_template(text: str) -> Template:
    """Split an input string into literal text and references; raise ExpressionError if malformed."""
    if is_plain(text):
        return Template(text, (text,) if text else ())
    try:
        tree = template_parser().parse(text)
    except UnexpectedInput as exc:
        raise _template_error(text, exc) from None
    parts: list[str | Reference] = []
    pending: list[str] = []  # literal pieces not yet flushed, so adjacent text becomes one part
    for child in tree.children:
        token = cast(Token, child)
        if token.type == "TEXT":
            pending.append(str(token))
        elif token.type == "ESCAPE":
            pending.append("$(")
        else:
            if pending:
                parts.append("".join(pending))
                pending.clear()
            parts.append(_reference(str(token), cast(int, token.start_pos)))
    if pending:
        parts.append("".join(pending))
    return Template(text, tuple(parts))


# Run time resolves the same input strings for every workflow of the same shape, so parsed
# templates are memoised; very long strings (whole scripts) are parsed each time instead, so a
# long-running controller's memory stays bounded (at most 2048 entries of at most 4 KiB each).
_CACHED_MAX_CHARS = 4096


@functools.lru_cache(maxsize=2048)
def _parse_template_memo(text: str) -> Template:
    return parse_template(text)


def parse_template_cached(text: str) -> Template:
    """parse_template, memoised for strings of reasonable size."""
    if len(text) > _CACHED_MAX_CHARS:
        return parse_template(text)
    return _parse_template_memo(text)


def _template_error(text: str, exc: UnexpectedInput) -> ExpressionError:
    # TEXT matches everything except the start of '$(' / '$$(', so lark can only stop at a '$('
    # that is not a valid reference.
    pos = exc.pos_in_stream if exc.pos_in_stream is not None else 0
    if text.startswith("$(", pos):
        return _explain_bad_reference(text, pos)
    return ExpressionError(  # pragma: no cover - defensive, unreachable with template.lark
        "KN030", f"malformed expression at {_show(text[pos:pos + 1])}", pos, 1, _NOT_A_REFERENCE_HINT)


_BODY = re.compile(r"[A-Za-z0-9_.-]*")
_SPACE = re.compile(r"\s+")
_DOTS_WITH_SPACE = re.compile(r"\s*\.\s*")
_HEAD_ALIASES = {"step": "steps", "task": "steps", "tasks": "steps", "workflows": "workflow",
                 "workspaces": "workspace"}
_OUTPUTS_ALIASES = {"output", "out", "outs", "result", "results"}


def _join(*pieces: str | None) -> str:
    """Hint sentences joined with '; ' (a question ends its own sentence)."""
    out = ""
    for piece in pieces:
        if piece:
            out += (" " if out.endswith("?") else "; ") + piece if out else piece
    return out


def _show(text: str, limit: int = 60) -> str:
    """``text`` quoted for a message (double quotes when it holds a single quote), cut if long."""
    shown = text if len(text) <= limit else text[:limit - 1] + "…"
    return f'"{shown}"' if "'" in shown and '"' not in shown else f"'{shown}'"


def _explain_bad_reference(text: str, start: int) -> ExpressionError:
    """Explain why the ``$(`` at ``start`` is not a valid reference (KN030 or KN031)."""
    body_start = start + 2
    close = text.find(")", body_start)
    inner = text[body_start:close] if close != -1 else None

    # Whitespace around an otherwise good reference: point at the whitespace itself.
    if inner is not None and _SPACE.search(inner):
        squeezed = _DOTS_WITH_SPACE.sub(".", inner.strip())
        if _is_reference(f"$({squeezed})"):
            space = cast(re.Match[str], _SPACE.search(inner))
            return ExpressionError("KN030", "whitespace is not allowed inside '$( ... )'",
                                   body_start + space.start(), space.end() - space.start(),
                                   f"write '$({squeezed})'")

    name_run = _BODY.match(text, body_start)
    assert name_run is not None, "the pattern matches the empty string"
    body_end = name_run.end()
    body = text[body_start:body_end]
    if _is_reference(f"$({body})"):
        # A good reference that is not closed right after its key (lark would have accepted it).
        if body_end == len(text):
            return ExpressionError("KN030", f"unterminated reference {_show(text[start:])}: missing ')'",
                                   start, body_end - start, f"write '$({body})'")
        found = text[body_end]
        hint = f"a reference ends right after its name: '$({body})'"
        if found == "[":
            hint += "; it names one whole output, indexing into it is not supported"
        return ExpressionError("KN030", f"expected ')' after '$({body}', found {_show(found)}",
                               body_end, 1, _join(hint, _NOT_A_REFERENCE_HINT))
    if body and body_end == len(text) and _could_become_reference(body):
        return ExpressionError("KN030", f"unterminated reference {_show(text[start:])}", start,
                               body_end - start, f"complete and close it; references are {REFERENCE_FORMS}")

    # Not a reference at all. Highlight up to the closing ')' when it is on the same line,
    # otherwise the run of name characters after '$('.
    end = close + 1 if close != -1 and "\n" not in text[start:close] else body_end
    end = max(end, body_start)
    candidate = inner if inner is not None and end == close + 1 else body
    hints = []
    suggestion = _suggest(candidate)
    if suggestion is not None:
        hints.append(f"did you mean '$({suggestion})'?")
    elif candidate.startswith("steps.") and candidate.count(".") > 3:
        hints.append("output keys cannot contain '.': a reference names one whole output")
    elif re.fullmatch(r"steps\.[^.]+\.outputs\.[^.]+", candidate):
        hints.append("a referenced output key matches [A-Za-z_][A-Za-z0-9_-]* and the step name is a "
                     "DNS-1123 label")
    hints.append(_NOT_A_REFERENCE_HINT)
    return ExpressionError("KN031", f"{_show(text[start:end])} is not a reference", start, end - start,
                           _join(*hints))


# These mirror reference.lark. They are only used to explain a rejection (prefix checks that
# a terminal cannot express); acceptance is decided by the grammar alone.
_STEP_PREFIX = re.compile(r"[a-z0-9][-a-z0-9]*")
_STEP_NAME = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?")
_OUTPUT_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def _could_become_reference(body: str) -> bool:
    """Is ``body`` the beginning of some valid reference (so the user stopped typing mid-way)?"""
    if any(head.startswith(body) for head in ("steps.", "workflow.", "workspace.path")):
        return True
    if body.startswith("workflow."):
        return any(f.startswith(body[len("workflow."):]) for f in WORKFLOW_FIELDS)
    if not body.startswith("steps."):
        return False
    step, dot, tail = body[len("steps."):].partition(".")
    if not dot:
        return _STEP_PREFIX.fullmatch(step) is not None
    if _STEP_NAME.fullmatch(step) is None:
        return False
    return "outputs.".startswith(tail) or (
        tail.startswith("outputs.") and _OUTPUT_KEY.fullmatch(tail[len("outputs."):]) is not None)


def _close(word: str, choices: tuple[str, ...]) -> str | None:
    if word in choices:
        return word
    lowered = word.lower()
    if lowered in choices:
        return lowered
    found = difflib.get_close_matches(lowered, choices, n=1, cutoff=0.6)
    return found[0] if found else None


def _suggest(inner: str) -> str | None:
    """The valid reference body the user most likely meant, or None."""
    parts = inner.split(".")
    head = parts[0]
    # Tekton spellings, for people who know Tekton: tasks.S.results.K, context.pipelineRun.X,
    # workspaces.W.path.
    if head == "context" and len(parts) == 3 and parts[1] in ("pipelineRun", "taskRun"):
        field = _close(parts[2], WORKFLOW_FIELDS)
        return f"workflow.{field}" if field else None
    if head == "workspaces" and len(parts) == 3 and parts[2] == "path":
        return "workspace.path"
    head = _HEAD_ALIASES.get(head.lower()) or _close(head, ("steps", "workflow", "workspace")) or ""
    rest = parts[1:]
    candidate: str | None = None
    if head == "steps":
        if len(rest) == 3:
            middle = "outputs" if rest[1].lower() in _OUTPUTS_ALIASES else _close(rest[1], ("outputs",))
            if middle:
                candidate = f"steps.{rest[0].lower()}.outputs.{rest[2]}"
        elif len(rest) == 2 and rest[1] != "outputs":  # $(steps.a.x): the 'outputs.' is missing
            candidate = f"steps.{rest[0].lower()}.outputs.{rest[1]}"
    elif head == "workflow" and len(rest) == 1:
        field = _close(rest[0], WORKFLOW_FIELDS)
        if field is None and rest[0].lower() in ("id", "uuid"):
            field = "uid"
        candidate = f"workflow.{field}" if field else None
    elif head == "workspace" and len(rest) <= 1 and (not rest or _close(rest[0], ("path",))):
        candidate = "workspace.path"
    if candidate is None or candidate == inner or not _is_reference(f"$({candidate})"):
        return None
    return candidate


# -- guards -------------------------------------------------------------------------------------

_LEADING_ZERO = re.compile(r"-?0[0-9]")
_BACKSLASH_ESCAPE = re.compile(r"\\(.)")
_DOLLAR_PAREN = re.compile(r"\$\$\(|\$\(")


def parse_guard(text: str) -> Guard:
    """Parse one ``when`` entry; raise ExpressionError (KN035, or KN030/KN031 for references)."""
    try:
        tree = guard_parser().parse(text)
    except UnexpectedInput as exc:
        raise _guard_error(text, exc) from None
    left_node, op_token, right = tree.children
    left = _operand(text, cast(Token, left_node))
    op = str(op_token)
    if isinstance(right, Tree):
        values = tuple(_literal(text, cast(Token, t)) for t in right.children)
    else:
        values = (_literal(text, right),)
    return Guard(text, left, op, values)


def _operand(text: str, token: Token) -> Reference | Literal:
    if token.type == "REFERENCE":
        return _reference(str(token), cast(int, token.start_pos))
    return Literal(_literal(text, token))


def _literal(text: str, token: Token) -> Scalar:
    value = str(token)
    offset = cast(int, token.start_pos)
    if token.type == "STRING":
        return _string_literal(text, value, offset)
    if token.type == "NUMBER":
        if _LEADING_ZERO.match(value):
            raise ExpressionError("KN035", f"invalid when guard: invalid number '{value}' (leading zero)",
                                  offset, len(value),
                                  _join("write it without leading zeros, or quote it as text", _GUARD_SHAPES))
        return float(value) if "." in value else int(value)
    return {"true": True, "false": False, "null": None}[value]


def _string_literal(text: str, token: str, offset: int) -> str:
    raw = token[1:-1]
    # Quoted text follows the same '$(' rule as inputs, so a quoted reference (compared as the
    # literal text "$(steps...)") or a typo never passes silently.
    for match in _DOLLAR_PAREN.finditer(raw):
        if match.group() == "$$(":
            continue
        at = offset + 1 + match.start()
        whole = _reference_regex().match(text, at)
        if whole is not None:
            ref = whole.group()
            raise ExpressionError("KN031", f"'{ref}' inside quotes is not a reference", at, len(ref),
                                  f"remove the quotes to compare the output: {ref} == ...; "
                                  "write '$$(' for a literal '$('")
        raise _explain_bad_reference(text, at)
    return _BACKSLASH_ESCAPE.sub(r"\1", raw).replace("$$(", "$(")


_OPERAND = {"REFERENCE", "STRING", "NUMBER", "TRUE", "FALSE", "NULL"}
_LITERAL = {"STRING", "NUMBER", "TRUE", "FALSE", "NULL"}
_OPERATOR_CHARS = re.compile(r"[=<>!~&|]+")
_WORD = re.compile(r"[-A-Za-z0-9_.]+")
_NOT_OPERATORS = {"=": "==", "!": "!=", "<>": "!=", "=!": "!=", "===": "==", "!==": "!=",
                  "not": "notin", "nin": "notin", "not_in": "notin", "not-in": "notin", "is": "==",
                  "eq": "==", "ne": "!=", "neq": "!="}
_CONJUNCTIONS = {"and", "or", "&&", "||", "&", "|"}


def _guard_error(text: str, exc: UnexpectedInput) -> ExpressionError:
    if not text.strip():
        return ExpressionError("KN035", "invalid when guard: the guard is empty", 0, len(text), _GUARD_SHAPES)
    found: str | None  # None: the guard ended too early
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        start, found = len(text.rstrip()), None
    elif isinstance(exc, UnexpectedToken):
        start, found = cast(int, exc.token.start_pos), str(exc.token)
    else:
        assert isinstance(exc, UnexpectedCharacters)
        start = cast(int, exc.pos_in_stream)  # always set by the lexer
        char = text[start]
        if text.startswith("$(", start):
            return _explain_bad_reference(text, start)
        if char in "'\"":
            return _string_error(text, start)
        word = _WORD.match(text, start) or _OPERATOR_CHARS.match(text, start)
        found = word.group() if word else char
    return _guard_problem(text, start, found, *_parser_context(text, start))


def _parser_context(text: str, start: int) -> tuple[set[str], Token | None]:
    """What the parser expected at ``start``, and the token before it (for the message)."""
    prefix = text[:start]
    try:
        interactive = guard_parser().parse_interactive(prefix)
        interactive.exhaust_lexer()
        expected = set(interactive.accepts())
        tokens = list(guard_parser().lex(prefix))
    except UnexpectedInput:  # pragma: no cover - the prefix before the error always parses
        return set(), None
    return expected, tokens[-1] if tokens else None


def _guard_problem(text: str, start: int, found: str | None, expected: set[str],
                   previous: Token | None) -> ExpressionError:
    length = len(found) if found is not None else 0
    shown = _show(found) if found is not None else "the end of the guard"
    prev = str(previous) if previous is not None else ""
    extra: str | None = None

    def problem(message: str) -> ExpressionError:
        hint = _join(extra, _GUARD_SHAPES)
        return ExpressionError("KN035", f"invalid when guard: {message}", start, length, hint)

    if "REFERENCE" in expected:  # at the very beginning
        if found is not None and _is_reference(f"$({found})"):
            extra = f"did you mean '$({found})'?"
        elif found is not None and found.lower() in ("true", "false", "null"):
            extra = f"did you mean '{found.lower()}'?"
        elif found == "$":
            extra = "references are written $(...)"
        elif found is not None:
            extra = _literal_advice(found)
        if found is not None and _OPERATOR_CHARS.fullmatch(found):
            return problem(f"missing left-hand side before {shown}")
        return problem(f"expected a reference or a literal, found {shown}")
    if "EQ_OP" in expected:  # after the left-hand side
        if found is None:
            return problem(f"missing operator after '{prev}'")
        if not (_OPERATOR_CHARS.fullmatch(found) or _WORD.fullmatch(found)):
            return problem(f"expected an operator (==, !=, in or notin), found {shown}")
        # Only near-certain corrections: a fuzzy match would turn 'contains' into 'notin'.
        lowered = found.lower()
        replacement = _NOT_OPERATORS.get(lowered) or (lowered if lowered in ("in", "notin") else None)
        if replacement:
            extra = f"did you mean '{replacement}'?"
        else:
            extra = "guards compare text; the operators are ==, !=, in and notin"
        return problem(f"{shown} is not a guard operator")
    op = prev
    if expected == _LITERAL and previous is not None and previous.type == "EQ_OP":
        if found == "[":
            extra = f"use '{'in' if op == '==' else 'notin'}' to compare with a list"
            return problem(f"'{op}' compares with a single literal, found a list")
        if found is not None and found.startswith("$("):
            extra = "a guard compares one reference (on the left) with literals (on the right)"
            return problem(f"the right-hand side of '{op}' must be a literal, found {shown}")
        if found is None:
            return problem(f"missing literal after '{op}'")
        extra = _literal_advice(found)
        return problem(f"expected a literal after '{op}', found {shown}")
    if expected == {"LSQB"}:  # after in / notin
        if found is None:
            return problem(f"missing list after '{op}'")
        if found.startswith("$("):
            extra = "a guard compares one reference (on the left) with literals (on the right)"
        else:
            extra = f"write: {op} [{found}]"
        return problem(f"'{op}' needs a list literal, found {shown}")
    if expected == _LITERAL:  # inside a list, after '[' or ','
        if found is None:
            return problem("unterminated list: missing ']'")
        if found == "]":
            return problem("empty list: give at least one literal" if prev == "["
                           else "a list has no ',' after its last literal")
        extra = _literal_advice(found)
        return problem(f"expected a literal in the list, found {shown}")
    if expected == {"COMMA", "RSQB"}:
        if found is None:
            return problem("unterminated list: missing ']'")
        return problem(f"expected ',' or ']' in the list, found {shown}")
    if expected == {"$END"}:
        if found is not None and found.lower() in _CONJUNCTIONS:
            extra = "a guard is one comparison; write several `when` entries, which must all hold"
        return problem(f"unexpected {shown} after the end of the guard")
    return problem(f"unexpected {shown}")  # pragma: no cover - every parser state is named above


def _literal_advice(found: str) -> str | None:
    if found.lower() in ("true", "false", "null"):
        return f"did you mean '{found.lower()}'?"
    if found.lower() in ("none", "nil"):
        return "did you mean 'null'?"
    if found[:1].isalpha() or found[:1] == "_":
        return f"quote text: '{found}'"
    if found[:1].isdigit() or found[:1] == "-":
        return "numbers are written like 42, -7 or 1.5"
    return None


def _string_error(text: str, start: int) -> ExpressionError:
    quote = text[start]
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == "\\":
            if index + 1 < len(text) and text[index + 1] in "\\'\"":
                index += 2
                continue
            bad = text[index:index + 2]
            return ExpressionError("KN035", f"invalid when guard: invalid escape '{bad}' in a string literal",
                                   index, len(bad), "inside quotes only \\\\, \\' and \\\" are escapes; "
                                   "write a backslash as \\\\")
        if char == quote:  # pragma: no cover - a closed, well-escaped string is a STRING token
            break
        index += 1
    return ExpressionError("KN035", "invalid when guard: unterminated string literal", start,
                           len(text) - start, f"close it with {quote}; inside, write {quote} as \\{quote}")
