"""Hostile YAML (issue 15): every input gets a located diagnostic, never a crash or a hang.

Alias bombs, runaway nesting and huge documents hit the limits of ``compiler.source`` (KN060);
values JSON cannot hold (other tags, NaN, giant integers, lone surrogates) are KN007 where they
stand; positions inside long strings with many references are found in linear time.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from compiler import source
from compiler.diagnostics import EXCERPT_WIDTH, Diagnostic, Span, error, render, render_all
from compiler.source import MAX_ALIAS_CHARACTERS, MAX_ALIAS_VALUES, MAX_DEPTH, load_documents
from kubernaut.cli import app

from .conftest import IMAGE, workflow_yaml


def problems(text: str) -> list[Diagnostic]:
    docs, diagnostics, _ = load_documents("h.yaml", text.encode())
    return [*diagnostics, *(d for doc in docs for d in doc.problems)]


def located(found: list[Diagnostic]) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.col) for d in found if d.span is not None]


# --- limits (KN060) -----------------------------------------------------------------------------

BILLION_LAUGHS = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9) if prev else ', '.join(['lol'] * 9)}]\n"
    for prev, name in zip(["", "a", "b", "c", "d", "e", "f", "g", "h"], "abcdefghi", strict=True))


def test_alias_bomb_is_refused_where_it_expands() -> None:
    assert len(BILLION_LAUGHS) < 700  # 9^9 values once expanded
    found = problems(BILLION_LAUGHS)
    assert [d.code for d in found] == ["KN060"]
    assert f"aliases expand to more than {MAX_ALIAS_VALUES:,} values" in found[0].message
    assert found[0].span is not None and found[0].span.line in range(1, 10)


def test_a_few_aliases_are_still_fine() -> None:
    docs, diagnostics, _ = load_documents("a.yaml", b"base: &b {x: 1, y: [1, 2]}\none: *b\ntwo: *b\n")
    assert diagnostics == [] and docs[0].problems == []
    assert docs[0].data["two"] == {"x": 1, "y": [1, 2]}


@pytest.mark.parametrize(("text", "where"), [
    ("s: &s '" + "x" * 10_000 + "'\nlist: [" + ", ".join(["*s"] * 200) + "]\n", (1, 4)),  # 2 MB of one string
    ("m: &m\n  ? '" + "k" * 10_000 + "'\n  : 1\nlist: [" + ", ".join(["*m"] * 200) + "]\n", (2, 5)),  # of a key
], ids=["string", "key"])
def test_aliases_of_a_long_string_are_refused(text: str, where: tuple[int, int]) -> None:
    # few values, but every alias repeats 10,000 characters in the inputs JSON (found by tests/fuzz)
    found = problems(text)
    assert located(found) == [("KN060", *where)]  # the anchored string or key
    assert f"aliases expand to more than {MAX_ALIAS_CHARACTERS:,} characters" in found[0].message


def test_aliases_of_a_short_string_are_fine() -> None:
    text = "s: &s '" + "x" * 1_000 + "'\nlist: [" + ", ".join(["*s"] * 900) + "]\n"  # 0.9 MB
    docs, diagnostics, _ = load_documents("a.yaml", text.encode())
    assert diagnostics == [] and len(docs[0].data["list"]) == 900


def test_recursive_alias_is_refused() -> None:
    assert [d.code for d in problems("a: &a [*a]\n")] == ["KN060"]


def nested(levels: int) -> str:
    return "a: " + "[" * levels + "]" * levels + "\n"


def test_nesting_limit_boundary() -> None:
    # `a:` is the root mapping, the flow lists nest below it
    assert problems(nested(MAX_DEPTH - 1)) == []
    assert located(problems(nested(MAX_DEPTH))) == [("KN060", 1, 3 + MAX_DEPTH)]  # the 101st level


def test_deep_block_nesting_is_refused_at_its_place() -> None:
    text = "".join("  " * level + "k:\n" for level in range(MAX_DEPTH + 5)) + "  " * (MAX_DEPTH + 5) + "v\n"
    assert located(problems(text)) == [("KN060", MAX_DEPTH + 1, 2 * MAX_DEPTH + 1)]


@pytest.mark.parametrize("text", [nested(50_000), "- " * 30_000 + "x\n", "a:\t" + nested(5_000)[3:]],
                         ids=["flow-50000", "block-30000", "pure-python-path"])
def test_runaway_nesting_neither_crashes_nor_overflows(text: str, tmp_path: Path) -> None:
    # In a child process: LibYAML's composer used to overflow the C stack (a segfault).
    path = tmp_path / "deep.yaml"
    path.write_text(text, encoding="utf-8")
    probe = ("import sys; from compiler.source import load_documents\n"
             "docs, found, _ = load_documents('d.yaml', open(sys.argv[1], 'rb').read())\n"
             "print(*[d.code for d in found])\n")
    done = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() in (["KN060"], ["KN001"])  # a tab where YAML forbids one is a syntax error


@pytest.mark.parametrize(("text", "where"), [
    ("a: " + "[" * 1000 + "]" * 1000 + "\n", (1, 3 + MAX_DEPTH)),  # past LibYAML's own 1,000 flow levels
    ("a: '\t'\nb: " + "{x: " * 3000 + "}" * 3000 + "\n", (2, 4 * MAX_DEPTH)),  # a tab: the pure-Python path
    ("\ufeffa: 1\nb: " + "[" * 1000 + "]" * 1000 + "\n", (2, 3 + MAX_DEPTH)),  # so does a byte-order mark
], ids=["libyaml-limit", "tab", "bom"])
def test_deep_flow_nesting_never_reaches_the_pure_python_scanner(text: str, where: tuple[int, int],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # That scanner keeps one possible simple key per flow level and rescans them all for every
    # token: seconds for a 2 KB text (found by tests/fuzz). LibYAML measures the nesting first.
    def quadratic(*args: object) -> None:
        raise AssertionError("the pure-Python scanner ran on a deeply nested text")

    monkeypatch.setattr(yaml.scanner.Scanner, "stale_possible_simple_keys", quadratic)
    assert located(problems(text)) == [("KN060", *where)]


def test_value_count_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source, "MAX_VALUES", 50)
    text = "items:\n" + "".join(f"  - {i}\n" for i in range(60))
    assert [d.code for d in problems(text)] == ["KN060"]


# --- values JSON cannot hold (KN007) ----------------------------------------------------------

@pytest.mark.parametrize(("value", "words"), [
    ("!!binary aGVsbG8=", "has the tag '!!binary'"),
    ("!!timestamp 2026-01-01", "has the tag '!!timestamp'"),
    ("!custom x", "has the tag '!custom'"),
    ("!!int x", "is not a valid !!int"),
    ("!!bool maybe", "is not a valid !!bool"),
    ("!!float ''", "is not a valid !!float"),
    ('!!int ""', "is not a valid !!int"),
    ("9" * 5000, "Exceeds the limit (4300 digits)"),
    (".nan", "NaN and infinities"),
    ("-.inf", "NaN and infinities"),
    ('"a\\ud800b"', "lone surrogate"),
    ("!!set {x: null}", "tag '!!set' is not supported"),
    ("!thing [1]", "tag '!thing' is not supported"),
])
def test_values_json_cannot_hold_are_located(value: str, words: str) -> None:
    found = problems(f"ok: 1\nbad: {value}\n")
    assert located(found) == [("KN007", 2, 6)]
    assert words in found[0].message


def test_standard_tags_are_fine() -> None:
    docs, _, _ = load_documents("t.yaml", b"a: !!str 12\nb: !!int '7'\nc: !!map {x: !!seq [1]}\nd: !!float 1\n")
    assert docs[0].problems == []
    assert docs[0].data == {"a": "12", "b": 7, "c": {"x": [1]}, "d": 1.0}


@pytest.mark.parametrize("value", ["!!binary aGVsbG8=", ".nan", "1" * 5000, '"\\udc00"', "!!timestamp 2026-01-01"],
                         ids=["binary", "nan", "5000-digits", "surrogate", "timestamp"])
def test_compile_reports_instead_of_crashing(value: str, tmp_path: Path) -> None:
    path = tmp_path / "wf.yaml"
    path.write_text(workflow_yaml(f"""
        - name: a
          actionType: kubernaut/echo
          image: {IMAGE}
          inputs:
            value: {value}
    """), encoding="utf-8")
    for command in (["validate", str(path)], ["compile", "--target", "all", str(path)]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 1, result.output
        assert f"{path}:11:16: error[KN007]" in result.output


# --- numbers the cluster cannot hold ------------------------------------------------------------

def step_with(field: str) -> str:
    return workflow_yaml(f"""
        - name: a
          actionType: kubernaut/echo
          image: {IMAGE}
          {field}
          inputs: {{message: hi}}
    """)


@pytest.mark.parametrize(("field", "code", "words"), [
    ("retries: 100000000000000000000", "KN017", "at most 2147483647"),
    ("timeout: 100000000h", "KN013", "longer than the longest Go duration"),
    ("timeout: 9999999999999999999999s", "KN013", "longer than the longest Go duration"),
])
def test_counts_and_durations_that_overflow_are_located(field: str, code: str, words: str,
                                                        compile_text: Any) -> None:
    result = compile_text(step_with(field))
    assert [(d.code, d.span.line, d.span.col) for d in result.diagnostics if d.span] == [(code, 10, 16)]
    assert words in result.diagnostics[0].message


@pytest.mark.parametrize("field", ["retries: 2147483647", "timeout: 2562047h"])
def test_the_largest_values_still_compile(field: str, compile_text: Any) -> None:
    result = compile_text(step_with(field))
    assert result.ok, [d.headline() for d in result.diagnostics]


# --- linear positions inside long strings -------------------------------------------------------

REF = "$(steps.a.outputs.v)"


@pytest.mark.parametrize(("quote", "escape", "escape_width"), [("'", "''", 2), ('"', "\\t", 2), ('"', "é", 1)])
def test_positions_of_many_references_in_one_long_string(quote: str, escape: str, escape_width: int,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[object] = []
    real = source._quoted_columns
    monkeypatch.setattr(source, "_quoted_columns", lambda *a: built.append(a) or real(*a))
    count = 3000  # about 80 KiB on one line
    text = f"a:\n  s: {quote}" + " ".join(escape + REF for _ in range(count)) + f"{quote}\n"
    docs, _, _ = load_documents("long.yaml", text.encode())
    doc = docs[0]
    value = doc.data["a"]["s"]
    offsets = [i for i in range(len(value)) if value.startswith(REF, i)]
    assert len(offsets) == count
    spans = [doc.span_in_string(("a", "s"), offset, len(REF)) for offset in offsets]
    # the n-th reference sits after n escapes, each escape_width source characters wide
    step = escape_width + len(REF) + 1
    assert [(s.line, s.col) for s in spans[:2]] == [(2, 7 + escape_width), (2, 7 + step + escape_width)]
    assert spans[-1].col == 7 + (count - 1) * step + escape_width
    assert spans[-1].end_col == spans[-1].col + len(REF)
    assert len(built) == 1  # the string's column map is built once, not once per reference


def test_positions_in_many_block_scalars_do_not_rescan_the_file() -> None:
    blocks = 400
    text = "".join(f"s{n}: |\n  line one\n  at {REF} here\n" for n in range(blocks))
    docs, _, _ = load_documents("blocks.yaml", text.encode())
    doc = docs[0]
    for n in range(blocks):
        offset = doc.data[f"s{n}"].index(REF)
        span = doc.span_in_string((f"s{n}",), offset, len(REF))
        assert (span.line, span.col) == (3 * n + 3, 6)


# --- excerpts of long lines ---------------------------------------------------------------------

def test_the_excerpt_of_a_long_line_is_a_window_around_the_caret() -> None:
    text = "a: 1\nk: " + "y" * 3000 + "ERR" + "z" * 3000 + "\n"
    rendered = render(error("KN001", "m", Span("f.yaml", 2, 3004, 2, 3007)), {"f.yaml": text})
    _, _, shown, caret = rendered.splitlines()
    assert len(shown) <= len("2 | ") + EXCERPT_WIDTH + 2  # and an ellipsis at each cut end
    start = caret.index("^")
    assert shown[start:start + 3] == "ERR" and caret[start:] == "^^^"
    assert shown.startswith("2 | …y") and shown.endswith("z…")


def test_many_diagnostics_on_one_long_line_print_linearly(compile_text: Any) -> None:
    # Found by tests/fuzz: one diagnostic per reference printed the whole 80 KiB line each time.
    refs = " ".join("$(steps.a.outputs.missing)" for _ in range(2000))
    result = compile_text(step_with("") + f"    - name: b\n      actionType: kubernaut/echo\n"
                                          f"      image: {IMAGE}\n      inputs: {{v: '{refs}'}}\n")
    assert len(result.diagnostics) == 2000
    assert len(render_all(result.diagnostics, result.sources)) < 2000 * (2 * EXCERPT_WIDTH + 300)
