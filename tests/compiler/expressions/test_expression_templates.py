"""parse_template: every reference form, escaping, and every error with its code and offset."""

from __future__ import annotations

import pytest

from compiler.diagnostics import Severity, Span
from compiler.expressions import (
    ExpressionError,
    Reference,
    Template,
    escape_literal,
    is_plain,
    iter_strings,
    parse_template,
    parse_template_cached,
)
from compiler.expressions.parse import guard_parser, template_parser


def step(name: str, key: str) -> Reference:
    return Reference("step", name, key)


def error_of(text: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        parse_template(text)
    return info.value


# -- valid forms ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "ref"), [
    ("$(steps.a.outputs.x)", Reference("step", "a", "x")),
    ("$(steps.git-clone.outputs.commit_sha)", Reference("step", "git-clone", "commit_sha")),
    ("$(steps.0.outputs._)", Reference("step", "0", "_")),
    ("$(steps.a1-b2.outputs.Key-With_Mixed-9)", Reference("step", "a1-b2", "Key-With_Mixed-9")),
    ("$(workflow.name)", Reference("workflow", None, "name")),
    ("$(workflow.namespace)", Reference("workflow", None, "namespace")),
    ("$(workflow.uid)", Reference("workflow", None, "uid")),
    ("$(workspace.path)", Reference("workspace", None, "path")),
])
def test_each_reference_form_as_a_whole_string(text: str, ref: Reference) -> None:
    template = parse_template(text)
    assert template.parts == (ref,)
    assert template.whole == ref
    assert template.references == (ref,)
    assert ref.text() == text
    assert template.whole is not None
    assert (template.whole.offset, template.whole.length) == (0, len(text))


def test_interpolated_references_keep_their_offsets() -> None:
    text = "clone $(steps.a.outputs.url) into $(workspace.path)/src for $(workflow.name)"
    template = parse_template(text)
    assert template.whole is None
    assert [p if isinstance(p, str) else p.text() for p in template.parts] == [
        "clone ", "$(steps.a.outputs.url)", " into ", "$(workspace.path)", "/src for ", "$(workflow.name)"]
    for ref in template.references:
        assert text[ref.offset:ref.offset + ref.length] == ref.text()
    assert [r.offset for r in template.references] == [6, 34, 60]


def test_adjacent_references_and_empty_text() -> None:
    template = parse_template("$(steps.a.outputs.x)$(steps.b.outputs.y)")
    assert template.parts == (step("a", "x"), step("b", "y"))
    assert template.whole is None
    assert parse_template("").parts == ()


def test_reference_equality_ignores_position() -> None:
    first, second = parse_template("$(steps.a.outputs.x) $(steps.a.outputs.x)").references
    assert first == second and hash(first) == hash(second)
    assert first.offset != second.offset


@pytest.mark.parametrize("text", ["", "plain", "cost: $5", "$$", "a $ b", "$", "($)", "${HOME}", "$$$", "ends with $"])
def test_plain_strings_are_their_own_single_part(text: str) -> None:
    assert is_plain(text)
    assert parse_template(text) == Template(text, (text,) if text else ())


# -- escaping --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "parts"), [
    ("$$(", ("$(",)),
    ("$$(date)", ("$(date)",)),
    ("echo $$(date +%s)", ("echo $(date +%s)",)),
    ("$$(steps.a.outputs.x)", ("$(steps.a.outputs.x)",)),  # an escaped reference is just text
    ("$$$(", ("$$(",)),  # '$' then the escape
    ("$$$$(", ("$$$(",)),
    ("$$ and $$(x)", ("$$ and $(x)",)),
    ("$$(echo $(steps.a.outputs.x))", ("$(echo ", step("a", "x"), ")")),
    ("$$(echo $$(inner))", ("$(echo $(inner))",)),
    ("$(steps.a.outputs.x)$$(", (step("a", "x"), "$(")),
    ("a$$(b$(workflow.uid)c$$(d", ("a$(b", Reference("workflow", None, "uid"), "c$(d")),
])
def test_escapes(text: str, parts: tuple[object, ...]) -> None:
    assert parse_template(text).parts == parts


def test_a_dollar_directly_before_a_reference_reads_as_the_escape() -> None:
    # Documented limitation: '$' + '$(steps...)' is the text '$$(', which is always the escape.
    assert parse_template("price: $$(steps.a.outputs.x)").parts == ("price: $(steps.a.outputs.x)",)


@pytest.mark.parametrize("text", ["$(", "$$(", "a $(b) $$(c) $", "$(steps.a.outputs.x)", "(($$(("])
def test_escape_literal_round_trips(text: str) -> None:
    assert parse_template(escape_literal(text)).parts == (text,)


# -- errors: KN031 (a '$(' that is not a reference) ---------------------------------------------

@pytest.mark.parametrize(("text", "offset", "length", "shown", "suggestion"), [
    ("$(step.a.outputs.x)", 0, 19, "$(step.a.outputs.x)", "$(steps.a.outputs.x)"),
    ("x $(steps.a.output.x)", 2, 19, "$(steps.a.output.x)", "$(steps.a.outputs.x)"),
    ("$(steps.a.results.x)", 0, 20, "$(steps.a.results.x)", "$(steps.a.outputs.x)"),
    ("$(tasks.a.results.x)", 0, 20, "$(tasks.a.results.x)", "$(steps.a.outputs.x)"),
    ("$(workflows.name)", 0, 17, "$(workflows.name)", "$(workflow.name)"),
    ("$(workflow.Name)", 0, 16, "$(workflow.Name)", "$(workflow.name)"),
    ("$(workflow.id)", 0, 14, "$(workflow.id)", "$(workflow.uid)"),
    ("$(workflow.namspace)", 0, 20, "$(workflow.namspace)", "$(workflow.namespace)"),
    ("$(workspace)", 0, 12, "$(workspace)", "$(workspace.path)"),
    ("$(workspaces.source.path)", 0, 25, "$(workspaces.source.path)", "$(workspace.path)"),
    ("$(context.pipelineRun.uid)", 0, 26, "$(context.pipelineRun.uid)", "$(workflow.uid)"),
    ("$(steps.Build.outputs.x)", 0, 24, "$(steps.Build.outputs.x)", "$(steps.build.outputs.x)"),
    ("$(steps.a.x)", 0, 12, "$(steps.a.x)", "$(steps.a.outputs.x)"),
])
def test_near_misses_are_kn031_with_did_you_mean(text: str, offset: int, length: int, shown: str,
                                                 suggestion: str) -> None:
    err = error_of(text)
    assert (err.code, err.offset, err.length) == ("KN031", offset, length)
    assert err.message == f"'{shown}' is not a reference"
    assert err.hint is not None
    assert err.hint.startswith(f"did you mean '{suggestion}'? ")
    assert "write '$$(' for a literal '$('" in err.hint
    assert "$(steps.<step>.outputs.<key>)" in err.hint and "$(workflow.name|namespace|uid)" in err.hint


@pytest.mark.parametrize(("text", "offset", "length"), [
    ("echo $(date)", 5, 7),
    ("$(echo hi)", 0, 10),
    ("x $(", 2, 2),
    ("$()", 0, 3),
    ("$(params.x)", 0, 11),
    ("ok $(steps.a.outputs.x) then $(bad)", 29, 6),
    ("$(steps.a.outputs.1x)", 0, 21),
    ("$(steps.a-.outputs.x)", 0, 21),
    ("$(steps.a.outputs)", 0, 18),
])
def test_other_dollar_parens_are_kn031_without_a_guess(text: str, offset: int, length: int) -> None:
    err = error_of(text)
    assert (err.code, err.offset, err.length) == ("KN031", offset, length)
    assert err.message == f"'{text[offset:offset + length]}' is not a reference"
    assert err.hint is not None and "did you mean" not in err.hint
    assert "write '$$(' for a literal '$('" in err.hint


def test_dotted_output_keys_explain_why() -> None:
    err = error_of("$(steps.a.outputs.x.y)")
    assert err.code == "KN031"
    assert err.hint is not None and "output keys cannot contain '.'" in err.hint


def test_kn031_span_stops_at_the_line_end_when_the_paren_is_further() -> None:
    err = error_of("run $(cat <<EOF\nline)\n")
    assert (err.code, err.offset, err.length) == ("KN031", 4, 5)  # '$(cat'


def test_first_bad_reference_is_reported() -> None:
    err = error_of("$(a) $(b)")
    assert err.offset == 0


# -- errors: KN030 (malformed) ------------------------------------------------------------------

@pytest.mark.parametrize(("text", "offset", "length", "message"), [
    ("$(steps.a.outputs.x", 0, 19, "unterminated reference '$(steps.a.outputs.x': missing ')'"),
    ("say $(workflow.name", 4, 15, "unterminated reference '$(workflow.name': missing ')'"),
    ("$(steps.a", 0, 9, "unterminated reference '$(steps.a'"),
    ("$(steps.a.outp", 0, 14, "unterminated reference '$(steps.a.outp'"),
    ("$(work", 0, 6, "unterminated reference '$(work'"),
    ("$( steps.a.outputs.x)", 2, 1, "whitespace is not allowed inside '$( ... )'"),
    ("$(steps.a.outputs.x  )", 19, 2, "whitespace is not allowed inside '$( ... )'"),
    ("$(steps.a. outputs.x)", 10, 1, "whitespace is not allowed inside '$( ... )'"),
    ("$(\tworkflow.uid)", 2, 1, "whitespace is not allowed inside '$( ... )'"),
    ("$(steps.a.outputs.x[0])", 19, 1, "expected ')' after '$(steps.a.outputs.x', found '['"),
    ("$(steps.a.outputs.x and more", 19, 1, "expected ')' after '$(steps.a.outputs.x', found ' '"),
    ("$(workflow.name}", 15, 1, "expected ')' after '$(workflow.name', found '}'"),
])
def test_malformed_references_are_kn030(text: str, offset: int, length: int, message: str) -> None:
    err = error_of(text)
    assert (err.code, err.offset, err.length, err.message) == ("KN030", offset, length, message)
    assert err.hint


def test_whitespace_hint_shows_the_fixed_reference() -> None:
    assert error_of("$( steps.a.outputs.x )").hint == "write '$(steps.a.outputs.x)'"


def test_unterminated_complete_reference_hint_closes_it() -> None:
    assert error_of("$(steps.a.outputs.x").hint == "write '$(steps.a.outputs.x)'"


def test_to_diagnostic_shifts_the_span() -> None:
    err = error_of("ab $(nope)")
    diagnostic = err.to_diagnostic(Span("wf.yaml", 7, 12))
    assert diagnostic.code == "KN031" and diagnostic.severity is Severity.ERROR
    assert diagnostic.span == Span("wf.yaml", 7, 15, 7, 22)
    assert diagnostic.hint == err.hint
    assert err.to_diagnostic(None).span is None


def test_error_str_and_repr() -> None:
    err = error_of("$(x)")
    assert str(err) == err.message
    assert "KN031" in repr(err)


# -- helpers ----------------------------------------------------------------------------------------

def test_iter_strings_walks_nested_json_in_order_and_skips_keys() -> None:
    value = {"$(k)": "v", "list": [1, "a", {"deep": ["b", None, True]}], "n": 3, "t": ("c",)}
    assert list(iter_strings(value)) == [
        (("$(k)",), "v"), (("list", 1), "a"), (("list", 2, "deep", 0), "b"), (("t", 0), "c")]
    assert list(iter_strings("s", ("inputs",))) == [(("inputs",), "s")]
    assert list(iter_strings(42)) == []


def test_iter_strings_handles_very_deep_nesting() -> None:
    value: object = "leaf"
    for _ in range(5000):
        value = [value]
    ((path, text),) = iter_strings(value)
    assert text == "leaf" and len(path) == 5000


def test_iter_strings_stringifies_odd_keys() -> None:
    assert list(iter_strings({1: "a", None: "b"})) == [((1,), "a"), (("None",), "b")]


def test_parsers_are_built_once_per_process() -> None:
    assert template_parser() is template_parser()
    assert guard_parser() is guard_parser()


def test_cached_parse_returns_the_same_template() -> None:
    text = "cached $(steps.a.outputs.x)"
    assert parse_template_cached(text) is parse_template_cached(text)
    assert parse_template_cached(text) == parse_template(text)


def test_very_long_strings_are_parsed_but_not_memoised() -> None:
    text = "x" * 10_000 + "$(steps.a.outputs.x)"
    first, second = parse_template_cached(text), parse_template_cached(text)
    assert first == second and first is not second
    assert first.parts == ("x" * 10_000, step("a", "x"))
