"""Fuzzing the front end, both targets and the parity checker (issue 15, "Keep it fixed").

Every input either compiles — and then both targets compile it, twice the same, and the parity
checker finds the two equivalent — or gets diagnostics that are all located (``file:line:col``
with a KN code); through the CLI (in-process) it exits 0 or 1, never with an exception. The
oracle is ``tests/fuzz/pipeline.py``; the long campaign is ``benchmarks/fuzz_campaign.py``.

The seeds: ``examples/``, ``golden/*/workflow.yaml`` and ``tests/fuzz/corpus/`` (the hostile
inputs of the issue, and what the fuzzers found). The hypothesis tests are bounded (examples
and a per-example deadline); CI runs them, ``pytest -m "not slow"`` skips them.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz.corpus import CORPUS, HOSTILE_SCALARS, HOSTILE_SNIPPETS, ROOT, catalog, contract_dirs, seed_files
from fuzz.mutate import Mutator, _seeds
from fuzz.pipeline import check, check_cli

# A hang is an input that takes longer than this (the campaign's limit too).
DEADLINE = timedelta(seconds=10)
BOUNDED = settings(deadline=DEADLINE, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in paths]


@pytest.mark.parametrize("path", seed_files(), ids=_ids(seed_files()))
def test_every_seed_goes_through_the_pipeline(path: Path) -> None:
    outcome = check(path.read_bytes(), catalog())
    if path.parent != CORPUS:
        assert outcome.ok, outcome.codes  # the examples and golden inputs are valid workflows


HOSTILE = sorted(CORPUS.glob("*.yaml"))


# Hostile but valid: the limits are generous enough for them.
VALID_HOSTILE = {"many-references-83k", "odd-line-breaks", "null-workflow-timeout", "date-like-namespace"}


@pytest.mark.parametrize("path", HOSTILE, ids=[p.stem for p in HOSTILE])
def test_hostile_inputs_through_the_cli(path: Path) -> None:
    codes = check_cli(path, contract_dirs())
    # the corpus is hostile: only the inputs that say they are valid may pass
    assert codes == ((0, 0, 0) if path.stem in VALID_HOSTILE else (1, 1, 2))


@st.composite
def mutated_workflows(draw: st.DrawFn) -> bytes:
    """A valid seed workflow with structural mutations (the campaign's mutator, driven by hypothesis's
    random source so that a failure shrinks), sometimes damaged as text or bytes."""
    mutator = Mutator(draw(st.randoms(use_true_random=False)))
    seed = draw(st.integers(0, len(_seeds()[0]) - 1))
    kind = draw(st.sampled_from(["gentle", "structural", "structural+text", "bytes"]))
    if kind == "gentle":
        return mutator.gentle_input(seed, draw(st.integers(1, 3)))
    if kind == "bytes":
        return mutator.damage_bytes(draw(st.sampled_from(_seeds()[1])))
    return mutator.mutated_input(seed, draw(st.integers(1, 5)), damage=kind == "structural+text")


@settings(BOUNDED, max_examples=120)
@given(mutated_workflows())
def test_mutated_workflows(raw: bytes) -> None:
    check(raw, catalog())


@pytest.fixture(scope="module")
def cli_loaded() -> None:
    """Load every command once before hypothesis times examples (the first load takes seconds)."""
    check_cli(ROOT / "examples" / "single-action.yaml", [])


@settings(BOUNDED, max_examples=25)
@given(raw=mutated_workflows())
def test_mutated_workflows_through_the_cli(raw: bytes, tmp_path_factory: pytest.TempPathFactory,
                                           cli_loaded: None) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.yaml"
    path.write_bytes(raw)
    check_cli(path, contract_dirs())


YAML_TOKENS = [*"abc:-[]{}'\"$()#&*!|>?,%@`\\\n\t .0123456789", "\r\n", "  ", "- ", ": ", "---\n", "...\n",
               "$(steps.a.outputs.x)", "!!str", "!!binary", "&a", "*a", "<<: ", "é", "\u2028", "\ufeff",
               "apiVersion: workflowexecution.kubernaut.ai/v1alpha1\n", "kind: WorkflowExecution\n",
               "metadata:\n  name: x\n", "spec:\n  steps:\n", "    - name: a\n", "      actionType: kubernaut/echo\n",
               *HOSTILE_SNIPPETS, *(s for s in HOSTILE_SCALARS if len(s) < 200)]


@settings(BOUNDED, max_examples=150)
@given(st.lists(st.sampled_from(YAML_TOKENS), max_size=80).map("".join))
def test_random_yaml_like_text(text: str) -> None:
    check(text.encode("utf-8", "surrogatepass"), catalog())


@settings(BOUNDED, max_examples=100)
@given(st.binary(max_size=2000))
def test_random_bytes(raw: bytes) -> None:
    check(raw, catalog())
