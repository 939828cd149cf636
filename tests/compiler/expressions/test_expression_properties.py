"""Property-based tests: the parsers never crash, and rendering/parsing/resolving agree."""

from __future__ import annotations

import itertools
import json

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from compiler.expressions import (
    JSON,
    Context,
    ExpressionError,
    Guard,
    Literal,
    Reference,
    Scalar,
    Template,
    escape_literal,
    evaluate_guard,
    is_plain,
    parse_guard,
    parse_template,
    resolve_inputs,
    resolve_template,
    to_text,
)

# Text biased towards the characters that matter, so '$(' and '$$(' come up all the time.
_INTERESTING = st.sampled_from([*"$$$(()).s", "steps.", "outputs.", "workflow.", "a", " ", "\n", "é"])
texts = st.lists(_INTERESTING | st.characters(), max_size=30).map("".join)

step_names = st.from_regex(r"[a-z0-9](?:[-a-z0-9]{0,8}[a-z0-9])?", fullmatch=True)
output_keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,8}", fullmatch=True)
references = st.one_of(
    st.builds(lambda s, k: Reference("step", s, k), step_names, output_keys),
    st.sampled_from([Reference("workflow", None, f) for f in ("name", "namespace", "uid")]),
    st.just(Reference("workspace", None, "path")),
)

json_values: st.SearchStrategy[JSON] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


def _shape(parts: tuple[str | Reference, ...]) -> list[tuple[str, str]]:
    return [("text", p) if isinstance(p, str) else ("ref", p.text()) for p in parts]


# -- templates ----------------------------------------------------------------------------------------

@settings(max_examples=500)
@given(texts)
@example("$(")
@example("$$$(steps.a.outputs.x)")
@example("$(steps.a.outputs.x")
def test_parse_template_never_crashes_and_errors_are_located(text: str) -> None:
    try:
        template = parse_template(text)
    except ExpressionError as err:
        assert not is_plain(text)
        assert err.code in ("KN030", "KN031")
        assert err.offset >= 0 and err.offset + err.length <= len(text)
        assert err.hint
        if err.code == "KN031":
            assert text.startswith("$(", err.offset)
        return
    assert template.source == text
    for a, b in itertools.pairwise(template.parts):
        assert not (isinstance(a, str) and isinstance(b, str)), "adjacent text is merged"
    assert "" not in template.parts
    for ref in template.references:
        assert text[ref.offset:ref.offset + ref.length] == ref.text()


@given(texts.filter(bool))
def test_escape_literal_round_trips(text: str) -> None:
    assert parse_template(escape_literal(text)).parts == (text,)


@given(st.lists(texts | references, max_size=8))
def test_render_then_parse_gives_the_same_parts(pieces: list[str | Reference]) -> None:
    # Normalise: merge adjacent text and drop empty text, as the parser does.
    parts: list[str | Reference] = []
    for piece in pieces:
        if isinstance(piece, str) and parts and isinstance(parts[-1], str):
            parts[-1] += piece
        elif piece != "":
            parts.append(piece)
    # The one inexpressible shape: a literal '$' right before a reference (see docs).
    for a, b in itertools.pairwise(parts):
        assume(not (isinstance(a, str) and a.endswith("$") and isinstance(b, Reference)))
    source = "".join(escape_literal(p) if isinstance(p, str) else p.text() for p in parts)
    template = parse_template(source)
    assert _shape(template.parts) == _shape(tuple(parts))
    assert template.parts == tuple(parts)
    for ref in template.references:
        assert source[ref.offset:ref.offset + ref.length] == ref.text()


# -- resolution ---------------------------------------------------------------------------------------

def _context(value: JSON) -> Context:
    return Context({"s": {"k": value}}, "wf", "ns", "uid")


@given(json_values)
def test_whole_reference_resolves_to_the_exact_object(value: JSON) -> None:
    assert resolve_template(parse_template("$(steps.s.outputs.k)"), _context(value)) is value


@given(texts, json_values)
def test_interpolation_is_text_plus_to_text(prefix: str, value: JSON) -> None:
    assume(not prefix.endswith("$"))
    template = parse_template(escape_literal(prefix) + "$(steps.s.outputs.k)!")
    if not prefix:
        assert template.parts[0] == Reference("step", "s", "k")
    assert resolve_template(template, _context(value)) == prefix + to_text(value) + "!"


@given(json_values)
def test_resolve_inputs_is_deterministic_json(value: JSON) -> None:
    inputs: JSON = {"whole": "$(steps.s.outputs.k)", "text": "v=$(steps.s.outputs.k)", "n": [1, "x"]}
    first = resolve_inputs(inputs, _context(value))
    again = resolve_inputs(inputs, _context(json.loads(json.dumps(value))))
    assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)


# -- guards ---------------------------------------------------------------------------------------------

decimal_texts = st.from_regex(r"-?(?:0|[1-9][0-9]{0,8})\.[0-9]{1,6}", fullmatch=True)
scalars: st.SearchStrategy[tuple[str, Scalar]] = st.one_of(  # (source, value)
    st.tuples(st.sampled_from(["'", '"']), texts).map(
        lambda qt: (qt[0] + escape_literal(qt[1]).replace("\\", "\\\\").replace(qt[0], "\\" + qt[0]) + qt[0],
                    qt[1])),
    st.integers().map(lambda n: (str(n), n)),
    decimal_texts.map(lambda s: (s, float(s))),
    st.sampled_from([("true", True), ("false", False), ("null", None)]),
)
spaces = st.sampled_from(["", " ", "  ", "\t", "\n "])


def _typed(values: tuple[Scalar, ...]) -> list[tuple[type, Scalar]]:
    return [(type(v), v) for v in values]


@given(references | scalars, st.sampled_from(["==", "!=", "in", "notin"]),
       st.lists(scalars, min_size=1, max_size=4), st.lists(spaces, min_size=6, max_size=6))
def test_rendered_guards_parse_back(left: Reference | tuple[str, Scalar], op: str,
                                    right: list[tuple[str, Scalar]], ws: list[str]) -> None:
    if op in ("==", "!="):
        right = right[:1]
        rhs = right[0][0]
    else:
        rhs = "[" + ws[4] + ("," + ws[5]).join(src for src, _ in right) + "]"
    left_source = left.text() if isinstance(left, Reference) else left[0]
    # Words need a separator; symbols do not.
    sep = ws[1] or (" " if op in ("in", "notin") else "")
    source = f"{ws[0]}{left_source}{sep}{op}{ws[2] or (' ' if op in ('in', 'notin') else '')}{rhs}{ws[3]}"
    guard = parse_guard(source)
    expected_left = left if isinstance(left, Reference) else Literal(left[1])
    assert guard.left == expected_left
    if isinstance(expected_left, Literal):
        assert isinstance(guard.left, Literal)
        assert type(guard.left.value) is type(expected_left.value)
    assert guard.op == op
    assert _typed(guard.values) == _typed(tuple(v for _, v in right))
    assert guard == Guard(source, expected_left, op, tuple(v for _, v in right))


guard_garbage = st.lists(
    st.sampled_from(["$(steps.a.outputs.x)", "$(", ")", "==", "!=", "=", "in", "notin", "[", "]", ",",
                     "'", '"', "\\", "true", "null", "1", "-", ".", " ", "x", "$$(", "'a'"]) | st.characters(),
    max_size=12).map("".join)


@settings(max_examples=500)
@given(guard_garbage)
@example("$(steps.a.outputs.x) in ['a',")
@example("'\\")
def test_parse_guard_never_crashes_and_errors_are_located(text: str) -> None:
    try:
        parse_guard(text)
    except ExpressionError as err:
        assert err.code in ("KN030", "KN031", "KN035")
        assert err.offset >= 0 and err.offset + err.length <= len(text)
        assert err.hint


@given(st.text(max_size=40), st.integers(min_value=0, max_value=60))
def test_damaged_valid_guards_never_crash(insert: str, where: int) -> None:
    valid = "$(steps.a.outputs.x) in ['abc', 1, true]"
    damaged = valid[:where] + insert + valid[where:]
    try:
        parse_guard(damaged)
    except ExpressionError as err:
        assert err.code in ("KN030", "KN031", "KN035")
        assert err.offset >= 0 and err.offset + err.length <= len(damaged)


@given(json_values)
def test_a_guard_on_the_text_of_a_value_holds(value: JSON) -> None:
    text = to_text(value)
    literal = "'" + escape_literal(text).replace("\\", "\\\\").replace("'", "\\'") + "'"
    ctx = _context(value)
    assert evaluate_guard(parse_guard(f"$(steps.s.outputs.k) == {literal}"), ctx)
    assert not evaluate_guard(parse_guard(f"$(steps.s.outputs.k) notin [{literal}]"), ctx)


def test_template_type_is_exported() -> None:
    assert isinstance(parse_template("x"), Template)
