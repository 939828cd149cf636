"""RoutingPolicy parsing: the documented format, and located diagnostics for every mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.routing import Match, RoutingPolicy, Rule, default_policy, load_policy_file, parse_policy

HEADER = "apiVersion: kubernaut.ai/v1alpha1\nkind: RoutingPolicy\n"


def codes_at(text: str) -> list[tuple[str, int, int]]:
    loaded = parse_policy("r.yaml", text)
    assert not loaded.ok and loaded.policy is None
    return [(d.code, d.span.line, d.span.col) for d in loaded.diagnostics if d.span is not None]


def test_the_documented_example_parses() -> None:
    loaded = parse_policy("r.yaml", HEADER + """defaultEngine: jobs
rules:
  - name: gitops-on-tekton
    match: {workflowType: gitops-pr-creation}
    engine: tekton
  - name: two-types
    match: {workflowType: [a, b]}
    engine: tekton
  - name: multi-step
    match: {minSteps: 4}
    engine: tekton
  - name: dag-workflows
    match: {hasDependencies: true}
    engine: tekton
  - name: canary
    match: {percentage: 10, minSteps: 2}
    engine: tekton
  - name: everything
    match: {}
    engine: jobs
""")
    assert loaded.ok, loaded.render()
    policy = loaded.policy
    assert policy is not None
    assert [r.name for r in policy.rules] == ["gitops-on-tekton", "two-types", "multi-step", "dag-workflows",
                                              "canary", "everything"]
    assert policy.rules[0].match.workflowType == ("gitops-pr-creation",)
    assert policy.rules[1].match.workflowType == ("a", "b")
    assert policy.rules[4].match == Match(percentage=10, minSteps=2)
    assert policy.rules[5].match.is_empty()


def test_defaults_and_null_sections() -> None:
    loaded = parse_policy("r.yaml", HEADER + "rules:\n  - name: all\n    match:\n    engine: tekton\n")
    assert loaded.ok, loaded.render()
    assert loaded.policy == RoutingPolicy(rules=(Rule(name="all", engine="tekton"),))
    assert parse_policy("r.yaml", HEADER).policy == default_policy()
    assert default_policy().defaultEngine == "jobs" and default_policy().rules == ()


def test_models_are_frozen() -> None:
    policy = default_policy()
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises ValidationError on frozen models
        policy.defaultEngine = "tekton"


@pytest.mark.parametrize(("body", "expected"), [
    ("defaultEngine: argo\n", [("KN007", 3, 16)]),
    ("rulez: []\n", [("KN005", 3, 1)]),
    ("rules:\n  - name: a\n    engine: tekton\n    match: {minStep: 4}\n", [("KN005", 6, 13)]),
    ("rules:\n  - name: a\n    match: {percentage: 101}\n    engine: tekton\n", [("KN007", 5, 25)]),
    ("rules:\n  - name: a\n    match: {percentage: '10'}\n    engine: tekton\n", [("KN007", 5, 25)]),
    ("rules:\n  - name: a\n    match: {minSteps: 0}\n    engine: tekton\n", [("KN007", 5, 23)]),
    ("rules:\n  - name: a\n    match: {hasDependencies: 'yes'}\n    engine: tekton\n", [("KN007", 5, 30)]),
    ("rules:\n  - name: a\n    match: {workflowType: []}\n    engine: tekton\n", [("KN007", 5, 27)]),
    ("rules:\n  - name: a\n    match: {workflowType: [x, 3]}\n    engine: tekton\n", [("KN007", 5, 31)]),
    ("rules:\n  - name: a\n    match: {workflowType: {x: 1}}\n    engine: tekton\n", [("KN007", 5, 27)]),
    ("rules:\n  - name: a\n", [("KN006", 4, 5)]),
    ("rules:\n  - engine: jobs\n", [("KN006", 4, 5)]),
    ("rules:\n  - name: Bad_Name\n    engine: jobs\n", [("KN010", 4, 11)]),
    ("rules:\n  - name: a\n    engine: jobs\n  - name: a\n    engine: tekton\n", [("KN007", 6, 11)]),
    ("rules: everything\n", [("KN007", 3, 8)]),
    ("defaultEngine: jobs\ndefaultEngine: tekton\n", [("KN003", 4, 1)]),
])
def test_each_mistake_is_a_located_diagnostic(body: str, expected: list[tuple[str, int, int]]) -> None:
    assert codes_at(HEADER + body) == expected


def test_all_problems_are_reported_in_one_run() -> None:
    text = ("apiVersion: kubernaut.ai/v1\nkind: RoutingPolicy\ndefaultEngine: argo\n"
            "rules:\n  - name: Bad\n    match: {percentage: 150}\n")
    assert codes_at(text) == [("KN004", 1, 13), ("KN007", 3, 16), ("KN006", 5, 5), ("KN010", 5, 11),
                              ("KN007", 6, 25)]


def test_rendering_names_the_field_and_suggests_the_fix() -> None:
    loaded = parse_policy("cfg/routing.yaml", HEADER + "rules:\n  - name: a\n    engine: tekton\n"
                          "    match: {workflowTyp: gitops}\n")
    rendered = loaded.render()
    assert "cfg/routing.yaml:6:13: error[KN005]: unknown field 'workflowTyp' in rules.0.match" in rendered
    assert "6 |     match: {workflowTyp: gitops}" in rendered
    assert "did you mean 'workflowType'?" in rendered


@pytest.mark.parametrize(("text", "code", "words"), [
    ("", "KN002", "no RoutingPolicy"),
    ("# only a comment\n", "KN002", "no RoutingPolicy"),
    ("- a\n", "KN002", "not a mapping"),
    ("rules: [\n", "KN001", "YAML syntax error"),
    (HEADER + "---\n" + HEADER, "KN002", "exactly one RoutingPolicy"),
    ("apiVersion: kubernaut.ai/v1alpha1\nkind: WorkflowExecution\n", "KN004", "expected 'RoutingPolicy'"),
    ("kind: RoutingPolicy\n", "KN004", "apiVersion is missing"),
])
def test_unreadable_documents(text: str, code: str, words: str) -> None:
    loaded = parse_policy("r.yaml", text)
    assert not loaded.ok
    assert any(d.code == code and words in d.message for d in loaded.diagnostics), loaded.render()


def test_binary_and_missing_files(tmp_path: Path) -> None:
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\x00\x01")
    assert [d.code for d in load_policy_file(binary).diagnostics] == ["KN002"]
    missing = load_policy_file(tmp_path / "nope.yaml")
    assert not missing.ok and missing.diagnostics[0].code == "KN002"
