"""parse_guard: every operator and literal, and every rejected shape with its code and offset."""

from __future__ import annotations

import pytest

from compiler.expressions import ExpressionError, Guard, Literal, Reference, parse_guard

A_X = "$(steps.a.outputs.x)"  # 20 characters; most offsets below count from it


def error_of(text: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        parse_guard(text)
    return info.value


def typed(values: tuple[object, ...]) -> list[tuple[type, object]]:
    # (True,) == (1,) in Python, so compare values together with their types.
    return [(type(v), v) for v in values]


# -- valid guards --------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "op", "values"), [
    (f"{A_X} == 'true'", "==", ("true",)),
    (f'{A_X} != "no"', "!=", ("no",)),
    (f"{A_X} == true", "==", (True,)),
    (f"{A_X} == false", "==", (False,)),
    (f"{A_X} == null", "==", (None,)),
    (f"{A_X} == 42", "==", (42,)),
    (f"{A_X} == -7", "==", (-7,)),
    (f"{A_X} == 0", "==", (0,)),
    (f"{A_X} == 1.50", "==", (1.5,)),
    (f"{A_X} == -0.25", "==", (-0.25,)),
    (f"{A_X} == 123456789012345678901234567890", "==", (123456789012345678901234567890,)),
    (f"{A_X} in ['abc', 'def']", "in", ("abc", "def")),
    (f"{A_X} notin [1, 'two', 3.5, true, null]", "notin", (1, "two", 3.5, True, None)),
    (f"{A_X} in ['only']", "in", ("only",)),
])
def test_operators_and_literals(text: str, op: str, values: tuple[object, ...]) -> None:
    guard = parse_guard(text)
    assert guard.source == text
    assert guard.left == Reference("step", "a", "x")
    assert guard.op == op
    assert typed(guard.values) == typed(values)
    assert guard.references == (Reference("step", "a", "x"),)


@pytest.mark.parametrize(("text", "value"), [
    (r"'it\'s'", "it's"),
    (r'"say \"hi\""', 'say "hi"'),
    (r"'back\\slash'", "back\\slash"),
    ("'a\"b'", 'a"b'),
    ('"a\'b"', "a'b"),
    ("''", ""),
    ("'$$(not a ref)'", "$(not a ref)"),
    ("'cost $5'", "cost $5"),
    ("'ünïcödé ✓'", "ünïcödé ✓"),
    ("'two  spaces'", "two  spaces"),
])
def test_string_literals(text: str, value: str) -> None:
    assert parse_guard(f"{A_X} == {text}").values == (value,)


@pytest.mark.parametrize("text", [
    f"{A_X}=='a'",
    f"  {A_X}   ==   'a'  ",
    f"{A_X}\n==\t'a'",
])
def test_whitespace_between_tokens_is_free(text: str) -> None:
    assert parse_guard(text).values == ("a",)


def test_list_whitespace_is_free() -> None:
    assert parse_guard(f"{A_X} in[ 'a' ,'b' ]").values == ("a", "b")


@pytest.mark.parametrize(("text", "ref"), [
    ("$(workflow.namespace) == 'prod'", Reference("workflow", None, "namespace")),
    ("$(workspace.path) != '/tmp'", Reference("workspace", None, "path")),
])
def test_other_reference_kinds(text: str, ref: Reference) -> None:
    assert parse_guard(text).left == ref


def test_literal_on_the_left() -> None:
    guard = parse_guard("'a' in ['a', 'b']")
    assert guard == Guard("'a' in ['a', 'b']", Literal("a"), "in", ("a", "b"))
    assert guard.references == ()


def test_reference_offset_inside_the_guard() -> None:
    guard = parse_guard(f"   {A_X} == 1")
    assert isinstance(guard.left, Reference)
    assert (guard.left.offset, guard.left.length) == (3, 20)


# -- KN035: wrong shapes ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "offset", "length", "message"), [
    ("", 0, 0, "the guard is empty"),
    ("   ", 0, 3, "the guard is empty"),
    (A_X, 20, 0, "missing operator after '$(steps.a.outputs.x)'"),
    (f"{A_X}  ", 20, 0, "missing operator after '$(steps.a.outputs.x)'"),
    (f"{A_X} > 1", 21, 1, "'>' is not a guard operator"),
    (f"{A_X} >= 1", 21, 2, "'>=' is not a guard operator"),
    (f"{A_X} = 'a'", 21, 1, "'=' is not a guard operator"),
    (f"{A_X} contains 'a'", 21, 8, "'contains' is not a guard operator"),
    (f"{A_X} not in ['a']", 21, 3, "'not' is not a guard operator"),
    (f"{A_X} inside ['a']", 21, 6, "'inside' is not a guard operator"),
    (f"{A_X} IN ['a']", 21, 2, "'IN' is not a guard operator"),
    (f"{A_X} 'a'", 21, 3, "expected an operator (==, !=, in or notin), found \"'a'\""),
    (f"{A_X} ==", 23, 0, "missing literal after '=='"),
    (f"{A_X} == ", 23, 0, "missing literal after '=='"),
    (f"{A_X} == ['a']", 24, 1, "'==' compares with a single literal, found a list"),
    (f"{A_X} != ['a']", 24, 1, "'!=' compares with a single literal, found a list"),
    (f"{A_X} == {A_X}", 24, 20, "the right-hand side of '==' must be a literal, found '$(steps.a.outputs.x)'"),
    (f"{A_X} == yes", 24, 3, "expected a literal after '==', found 'yes'"),
    (f"{A_X} == True", 24, 4, "expected a literal after '==', found 'True'"),
    (f"{A_X} == 1.", 24, 2, "expected a literal after '==', found '1.'"),
    (f"{A_X} == 1e3", 24, 3, "expected a literal after '==', found '1e3'"),
    (f"{A_X} == 007", 24, 3, "invalid number '007' (leading zero)"),
    (f"{A_X} == -01.5", 24, 5, "invalid number '-01.5' (leading zero)"),
    (f"{A_X} == 'a' junk", 28, 4, "unexpected 'junk' after the end of the guard"),
    (f"{A_X} == 'a' 'b'", 28, 3, "unexpected \"'b'\" after the end of the guard"),
    (f"{A_X} == 'a' and {A_X} == 'b'", 28, 3, "unexpected 'and' after the end of the guard"),
    (f"{A_X} in 'a'", 24, 3, "'in' needs a list literal, found \"'a'\""),
    (f"{A_X} notin 1", 27, 1, "'notin' needs a list literal, found '1'"),
    (f"{A_X} in", 23, 0, "missing list after 'in'"),
    (f"{A_X} in {A_X}", 24, 20, "'in' needs a list literal, found '$(steps.a.outputs.x)'"),
    (f"{A_X} in []", 25, 1, "empty list: give at least one literal"),
    (f"{A_X} in ['a',]", 29, 1, "a list has no ',' after its last literal"),
    (f"{A_X} in ['a'", 28, 0, "unterminated list: missing ']'"),
    (f"{A_X} in ['a',", 29, 0, "unterminated list: missing ']'"),
    (f"{A_X} in ['a' 'b']", 29, 3, "expected ',' or ']' in the list, found \"'b'\""),
    (f"{A_X} in [x]", 25, 1, "expected a literal in the list, found 'x'"),
    (f"{A_X} in [['a']]", 25, 1, "expected a literal in the list, found '['"),
    (f"{A_X} in ['a'] x", 30, 1, "unexpected 'x' after the end of the guard"),
    ("== 'a'", 0, 2, "missing left-hand side before '=='"),
    ("foo == 'a'", 0, 3, "expected a reference or a literal, found 'foo'"),
    ("steps.a.outputs.x == 'a'", 0, 17, "expected a reference or a literal, found 'steps.a.outputs.x'"),
    ("$steps == 1", 0, 1, "expected a reference or a literal, found '$'"),
    ("['a'] in ['a']", 0, 1, "expected a reference or a literal, found '['"),
    (f"{A_X} == 'a\\n'", 26, 2, "invalid escape '\\n' in a string literal"),
    (f"{A_X} == 'a\\", 26, 1, "invalid escape '\\' in a string literal"),
    (f"{A_X} == 'abc", 24, 4, "unterminated string literal"),
    (f'{A_X} == "abc', 24, 4, "unterminated string literal"),
])
def test_invalid_guards_are_kn035(text: str, offset: int, length: int, message: str) -> None:
    err = error_of(text)
    assert (err.code, err.offset, err.length) == ("KN035", offset, length)
    assert err.message == f"invalid when guard: {message}"
    assert err.hint is not None


@pytest.mark.parametrize(("text", "advice"), [
    (f"{A_X} = 'a'", "did you mean '=='?"),
    (f"{A_X} ! 'a'", "did you mean '!='?"),
    (f"{A_X} not in ['a']", "did you mean 'notin'?"),
    (f"{A_X} IN ['a']", "did you mean 'in'?"),
    (f"{A_X} > 1", "guards compare text; the operators are ==, !=, in and notin"),
    (f"{A_X} contains 'a'", "guards compare text; the operators are ==, !=, in and notin"),
    (f"{A_X} == True", "did you mean 'true'?"),
    (f"{A_X} == None", "did you mean 'null'?"),
    (f"{A_X} == yes", "quote text: 'yes'"),
    (f"{A_X} == 1.", "numbers are written like 42, -7 or 1.5"),
    (f"{A_X} == ['a']", "use 'in' to compare with a list"),
    (f"{A_X} != ['a']", "use 'notin' to compare with a list"),
    (f"{A_X} in 'a'", "write: in ['a']"),
    (f"{A_X} == 'a' and {A_X} == 'b'", "a guard is one comparison; write several `when` entries, which must all hold"),
    ("steps.a.outputs.x == 'a'", "did you mean '$(steps.a.outputs.x)'?"),
    ("foo == 'a'", "quote text: 'foo'"),
    ("$steps == 1", "references are written $(...)"),
    ("'a' == $(steps.a.outputs.x)", "a guard compares one reference (on the left) with literals (on the right)"),
])
def test_kn035_hints_are_specific_and_show_the_accepted_shapes(text: str, advice: str) -> None:
    hint = error_of(text).hint
    assert hint is not None
    assert hint.startswith(advice)
    assert "$(steps.a.outputs.sha) in ['abc', 'def']" in hint


# -- references inside guards: KN030/KN031 ------------------------------------------------------------

@pytest.mark.parametrize(("text", "code", "offset", "length"), [
    ("$(step.a.outputs.x) == 'a'", "KN031", 0, 19),
    ("$(x) in ['a']", "KN031", 0, 4),
    ("  $(workflows.name) == 'a'", "KN031", 2, 17),
    ("$( steps.a.outputs.x) == 'a'", "KN030", 2, 1),
    ("$(steps.a.outputs.x == 'a'", "KN030", 19, 1),
    ("$(steps.a.outputs.x", "KN030", 0, 19),
    # '$(' inside a quoted literal follows the same rule as in inputs.
    (f"{A_X} == '$(steps.a.outputs.y)'", "KN031", 25, 20),
    (f"{A_X} in ['ok', 'x $(date)']", "KN031", 34, 7),
])
def test_bad_references_in_guards(text: str, code: str, offset: int, length: int) -> None:
    err = error_of(text)
    assert (err.code, err.offset, err.length) == (code, offset, length)


def test_quoted_reference_hint_says_to_remove_the_quotes() -> None:
    err = error_of(f"{A_X} == '$(steps.a.outputs.y)'")
    assert err.message == "'$(steps.a.outputs.y)' inside quotes is not a reference"
    assert err.hint is not None and err.hint.startswith("remove the quotes")


def test_misspelt_reference_in_guard_suggests_the_fix() -> None:
    err = error_of("$(step.a.outputs.x) == 'a'")
    assert err.hint is not None and err.hint.startswith("did you mean '$(steps.a.outputs.x)'?")
