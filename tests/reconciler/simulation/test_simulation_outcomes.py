"""The outcomes file (``kubernaut run --simulate``): model, attempt selection, located errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reconciler.simulation import AttemptOutcome, LoadedOutcomes, OutcomesError, load_outcomes, parse_outcomes


def parse(text: str) -> LoadedOutcomes:
    return parse_outcomes(textwrap.dedent(text), "outcomes.yaml")


def errors(text: str) -> list[str]:
    with pytest.raises(OutcomesError) as caught:
        parse(text)
    return [d.headline() for d in caught.value.diagnostics]


def test_the_issue_example_parses() -> None:
    loaded = parse("""
        steps:
          git-clone:                      # attempts in order
            - {result: failed, message: "connection reset"}
            - {result: succeeded, outputs: {commitSHA: abc123}, duration: 3s}
        """)
    first, second = loaded.outcomes.steps["git-clone"]
    assert (first.result, first.message, first.exit_code, first.duration) == ("failed", "connection reset", 1, 0.0)
    assert (second.succeeded, second.outputs, second.duration, second.exit_code) == (
        True, {"commitSHA": "abc123"}, 3.0, 0)


def test_attempts_are_one_based_and_the_last_repeats() -> None:
    outcomes = parse("steps: {s: [{result: failed}, {result: succeeded, outputs: {n: 2}}]}").outcomes
    assert outcomes.for_attempt("s", 1) == AttemptOutcome(result="failed")
    assert outcomes.for_attempt("s", 2) == AttemptOutcome(outputs={"n": 2})
    assert outcomes.for_attempt("s", 7) == outcomes.for_attempt("s", 2)
    assert outcomes.for_attempt("s", 0) == outcomes.for_attempt("s", 1)
    assert outcomes.for_attempt("unscripted", 1) is None


@pytest.mark.parametrize(("text", "seconds"), [("3s", 3), ("1m30s", 90), ("500ms", 0.5), ("0s", 0), ("0", 0),
                                               ("2h", 7200), (5, 5), (0.25, 0.25)])
def test_durations(text: object, seconds: float) -> None:
    outcomes = parse_outcomes(f"steps: {{s: [{{duration: {text}}}]}}").outcomes
    assert outcomes.steps["s"][0].duration == seconds


def test_defaults_succeed_with_no_outputs() -> None:
    (attempt,) = parse("steps: {s: [{}]}").outcomes.steps["s"]
    assert attempt.succeeded and attempt.outputs == {} and attempt.duration == 0 and attempt.exit_code == 0


def test_explicit_exit_code_of_a_failure() -> None:
    (attempt,) = parse("steps: {s: [{result: failed, exitCode: 137}]}").outcomes.steps["s"]
    assert attempt.exit_code == 137


def test_unknown_field_is_located_with_a_suggestion() -> None:
    with pytest.raises(OutcomesError) as caught:
        parse("""
            steps:
              s:
                - {result: failed, mesage: oops}
            """)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.headline() == "outcomes.yaml:4:24: error[KN005]: unknown field 'mesage' in steps.s.0"
    assert diagnostic.hint and "message" in diagnostic.hint
    rendered = caught.value.render()
    assert "mesage: oops" in rendered and "^" in rendered


def test_every_problem_is_reported_at_its_place() -> None:
    found = errors("""
        steps:
          a:
            - {result: maybe}
            - {duration: soon}
          b:
            - {result: failed, outputs: {x: 1}}
            - {result: succeeded, exitCode: 2}
            - {result: failed, exitCode: 0}
          c: []
        """)
    assert ("outcomes.yaml:4:16: error[KN007]: steps.a.0.result: 'maybe' is not allowed; "
            "expected 'succeeded' or 'failed'") in found
    assert any(f.startswith("outcomes.yaml:5:18: error[KN013]: steps.a.1.duration: invalid duration") for f in found)
    assert any(f.startswith("outcomes.yaml:7:7: error[KN007]") and "outputs are only read" in f for f in found)
    assert any(f.startswith("outcomes.yaml:8:7: error[KN007]") and "exits with 0" in f for f in found)
    assert any(f.startswith("outcomes.yaml:9:7: error[KN007]") and "non-zero exitCode" in f for f in found)
    assert "outcomes.yaml:10:6: error[KN007]: step 'c' lists no attempts; give at least one or remove it" in found


def test_shape_errors() -> None:
    assert errors("steps: [a, b]") == ["outcomes.yaml:1:8: error[KN007]: steps must be a mapping"]
    assert errors("stepz: {}")[0].startswith("outcomes.yaml:1:1: error[KN005]: unknown field 'stepz'")
    assert errors("steps: {s: {result: failed}}") == ["outcomes.yaml:1:12: error[KN007]: steps.s must be a list"]


def test_yaml_and_file_level_errors() -> None:
    assert errors("steps: {s: [")[0].startswith("outcomes.yaml:1:13: error[KN001]: YAML syntax error")
    assert errors("")[0].startswith("outcomes.yaml:1:1: error[KN002]: file is empty")
    assert errors("steps: {}\n---\nsteps: {}\n")[0] == (
        "outcomes.yaml:3:1: error[KN002]: an outcomes file holds one document, found 2")
    assert errors("steps:\n  s: []\n  s: []\n")[0].startswith("outcomes.yaml:3:3: error[KN003]: duplicate key 's'")


def test_load_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "outcomes.yaml"
    path.write_text("steps: {s: [{result: failed}]}\n")
    assert load_outcomes(path).outcomes.steps["s"][0].result == "failed"
    with pytest.raises(OutcomesError, match="cannot read outcomes file"):
        load_outcomes(tmp_path / "missing.yaml")


def test_scripted_steps_missing_from_the_workflow_are_warned_about() -> None:
    loaded = parse("""
        steps:
          git-clon: [{result: failed}]
          commit: [{}]
        """)
    (warning,) = loaded.check_steps(["git-clone", "commit"])
    assert not warning.is_error
    assert warning.headline().startswith("outcomes.yaml:3:3: warning[KN005]: outcomes script step 'git-clon'")
    assert warning.hint and "git-clone" in warning.hint
