"""The fuzz corpus: the examples, the golden inputs and the hostile inputs of issue 15.

``seed_files()`` lists the files a fuzzer starts from: every ``examples/*.yaml``,
``golden/*/workflow.yaml`` and ``tests/fuzz/corpus/*.yaml`` (the hostile inputs, and every
crash the fuzzers found, kept as regression inputs). ``catalog()`` is the built-in catalog plus
the golden cases' own contracts, so the golden inputs compile as they do in their tests.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from compiler.contracts import Catalog, load_catalog
from compiler.diagnostics import has_errors

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parent / "corpus"


def seed_files() -> list[Path]:
    return [*sorted((ROOT / "examples").glob("*.yaml")), *sorted((ROOT / "golden").glob("*/workflow.yaml")),
            *sorted(CORPUS.glob("*.yaml"))]


def valid_seed_files() -> list[Path]:
    """The seeds that are valid workflows (the structural mutations start from these)."""
    return [p for p in seed_files() if p.parent != CORPUS]


def contract_dirs() -> list[Path]:
    """The golden cases' own contracts (``--contracts`` for each)."""
    return sorted((ROOT / "golden").glob("*/contracts"))


@cache
def catalog() -> Catalog:
    found, problems = load_catalog(contract_dirs())
    assert not has_errors(problems), problems
    return found


# Raw YAML for a value: each breaks a limit or an assumption somewhere (issue 15, item 7).
HOSTILE_SCALARS: tuple[str, ...] = (
    "9" * 4301, "-" + "1" * 5000, "100000000000000000000", "2147483648", "-1", "0", "1e400", "-0.0",
    ".nan", ".NaN", ".inf", "-.Inf", "0x7fffffffffffffff", "0o777", "1_000",
    "!!binary aGVsbG8=", "!!timestamp 2026-01-01", "!!timestamp 2026-01-01T10:00:00Z", "2026-01-01",
    "!custom x", "!!int x", "!!float x", "!!bool maybe", "!!null x", "!!str 12", "!<tag:example.com,2000:x> 1",
    '"\\ud800"', '"a\\udc00b"', '"\\u0000"', '"\\x7f\\x85"', '"\\u202eevil"', '"é日本語🙂"', "'\u200b'",
    '"$("', '"$(steps"', '"$(steps.a.outputs.x"', '"$(steps.a.outputs.x)"', '"$(steps.nope.outputs.x)"',
    '"$(inputs.x)"', '"$(params.x)"', '"$(context.pipelineRun.name)"', '"$$(steps.a.outputs.x)"',
    '"$(steps.a.outputs.x) and $(steps.b.outputs.y)"', '"$()"', '"$((steps.a.outputs.x))"', '"$(steps.a.outputs.x.y)"',
    '"$(steps.a.outputs.x)[0]"', "\"$(steps.a.outputs.x) == 'y'\"", '"$(steps..outputs.)"',
    "''", '""', "~", "null", "true", "yes", "on", "'true'", "-", "?", ":", "'#'", "'|'",
    "'" + "x" * 70_000 + "'", "'" + "a" * 64 + "'", "'" + "a-" * 40 + "'", "A_B", "'UPPER'", "'a..b'", "'-a-'",
    "'" + "$(steps.a.outputs.x) " * 500 + "'",
    "[]", "{}", "[1, [2, [3]]]", "{a: {b: {c: {}}}}", "[" * 60 + "]" * 60, "[" * 150 + "]" * 150,
    "{x: " * 120 + "1" + "}" * 120, "!!set {a: null}", "!!omap [a: 1]", "!!map []", "!!seq {}",
    "!thing [1]", "!thing {a: 1}", "|\n  block\n  $(steps.a.outputs.x)\n", ">-\n  folded\n  text\n",
    "1h", "0s", "-5m", "100000000h", "9999999999999999999999s", "1.5h30m", "P1D", "10", "'600'",
)

# Whole hostile documents or fragments (text mutations splice these in).
HOSTILE_SNIPPETS: tuple[str, ...] = (
    "a: &a [*a]\n",
    "x: &x {k: v}\ny: *x\nz: {<<: *x, k2: v2}\n",
    "<<: *missing\n",
    "k: v\nk: w\n",
    "%YAML 1.1\n---\n",
    "--- !!map\n",
    "...\n",
    "? [complex, key]\n: v\n",
    "? {a: 1}\n: v\n",
    "\t- tab\n",
    "\ufeff",
    "\x00\x01\x02",
    "\x85\u2028\u2029",
    "\udc80",
    "'unterminated\n",
    "\"unterminated\n",
    "{unclosed: [\n",
    "&anchor\n",
    "*alias\n",
    "!tag\n",
    "# comment only\n",
    "- a\n- b\n",
    "--- |\n  text\n",
    "key: |\n   over-indented\n  under\n",
)
