"""Every category of bad input yields a located error on the offending line (issue 2 acceptance)."""

from __future__ import annotations

import hashlib

import pytest

from compiler.diagnostics import Severity

IMG = "ghcr.io/kubernaut/actions/echo@sha256:" + hashlib.sha256(b"echo").hexdigest()
HEAD = "apiVersion: workflowexecution.kubernaut.ai/v1alpha1\nkind: WorkflowExecution\nmetadata:\n  name: wf\n"


def doc(steps: str, head: str = HEAD, spec: str = "") -> str:
    return f"{head}spec:\n{spec}  steps:\n{steps}"


def step(name: str, *lines: str, action: str = "kubernaut/echo", image: str = IMG) -> str:
    body = "".join(f"      {line}\n" for line in lines)
    return f"    - name: {name}\n      actionType: {action}\n      image: {image}\n{body}"


# (case id, document, expected code, expected line, expected column or None, text in message)
CASES = [
    ("yaml-syntax", HEAD + "spec:\n  steps: [\n", "KN001", 7, None, "YAML syntax"),
    ("wrong-api-version", doc(step("a")).replace("kubernaut.ai/v1alpha1", "kubernaut.ai/v1", 1),
     "KN004", 1, 13, "apiVersion"),
    ("wrong-kind", doc(step("a")).replace("kind: WorkflowExecution", "kind: Workflow"), "KN004", 2, 7, "kind"),
    ("empty-steps", HEAD + "spec:\n  steps: []\n", "KN012", 6, 10, "no steps"),
    ("unknown-field", doc(step("a", "runafter: []")), "KN005", 10, 7, "unknown field 'runafter'"),
    ("duplicate-key", doc(step("a", "retries: 1", "retries: 2")), "KN003", 11, 7, "duplicate key 'retries'"),
    ("duplicate-step", doc(step("a") + step("a")), "KN011", 10, 13, "duplicate step name 'a'"),
    ("invalid-name", doc(step("Bad_Name")), "KN010", 7, 13, "DNS-1123"),
    ("overlong-name", doc(step("a" * 64)), "KN010", 7, 13, "64 characters"),
    ("self-dependency", doc(step("a", "runAfter: [a]")), "KN021", 10, 18, "depends on itself"),
    ("unknown-run-after", doc(step("a", "runAfter: [b]")), "KN020", 10, 18, "unknown step 'b'"),
    ("cycle", doc(step("a", "runAfter: [b]") + step("b", "runAfter: [a]")), "KN022", 10, 18, "a -> b -> a"),
    ("unpinned-image", doc(step("a", image="ghcr.io/kubernaut/echo:latest")), "KN015", 9, 14, "not pinned"),
    ("malformed-digest", doc(step("a", image="ghcr.io/kubernaut/echo@sha256:abc")), "KN015", 9, 14, "malformed"),
    ("bad-duration", doc(step("a", "timeout: 5 minutes")), "KN013", 10, 16, "duration"),
    ("negative-retries", doc(step("a", "retries: -1")), "KN014", 10, 16, "retries"),
    ("malformed-expression", doc(step("a", "inputs: {x: '$(steps.a.outputs'}")), "KN030", 10, 20, ""),
    ("unknown-step-ref", doc(step("a", "inputs: {x: '$(steps.nope.outputs.y)'}")), "KN032", 10, 20, "'nope'"),
    ("unknown-output", doc(step("c", "usesWorkspace: true", "inputs: {repository: r}", action="git/clone")
                           + step("b", "inputs: {x: '$(steps.c.outputs.sha)'}")),
     "KN033", 15, 20, "no output 'sha'"),
    ("unescaped-dollar", doc(step("a", "inputs: {x: 'echo $(date)'}")), "KN031", 10, 25, "not a reference"),
    ("ref-cycle", doc(step("a", "inputs: {x: '$(steps.b.outputs.y)'}") + step("b", "runAfter: [a]")),
     "KN034", 10, 20, "cycle"),
    ("bad-when-op", doc(step("a", "when: [\"'x' > 'y'\"]")), "KN035", 10, 19, "operator"),
    ("missing-required-input", doc(step("s", "inputs: {deployment: d}", action="kubernetes/scale_deployment")),
     "KN040", 10, 7, "'replicas'"),
    ("wrong-input-type", doc(step("s", "inputs: {deployment: d, replicas: 'ten'}",
                                  action="kubernetes/scale_deployment")), "KN041", 10, 41, "integer"),
]


@pytest.mark.parametrize(("case", "text", "code", "line", "col", "words"), CASES, ids=[c[0] for c in CASES])
def test_each_category_is_a_located_error(compile_text, case, text, code, line, col, words) -> None:  # type: ignore[no-untyped-def]
    result = compile_text(text)
    assert not result.ok
    matching = [d for d in result.diagnostics if d.code == code]
    assert matching, f"{case}: expected {code}, got {[d.headline() for d in result.diagnostics]}"
    found = matching[0]
    assert found.severity is Severity.ERROR
    assert found.span is not None and found.span.file == "wf.yaml"
    assert found.span.line == line, found.headline()
    if col is not None:
        assert found.span.col == col, found.headline()
    assert words in found.message
    assert result.workflows == []


def test_all_diagnostics_collected_in_one_run(compile_text) -> None:  # type: ignore[no-untyped-def]
    text = doc(step("Bad", "retries: -1", "timeout: soon") + step("b", image="x:latest"))
    codes = sorted(d.code for d in compile_text(text).diagnostics)
    assert codes == ["KN010", "KN013", "KN014", "KN015"]


def test_unknown_field_suggests_the_right_name(compile_text) -> None:  # type: ignore[no-untyped-def]
    found = next(d for d in compile_text(doc(step("a", "usesWorkspce: true"))).diagnostics if d.code == "KN005")
    assert found.hint == "did you mean 'usesWorkspace'?"


def test_unpinned_image_hint_shows_expected_form(compile_text) -> None:  # type: ignore[no-untyped-def]
    found = next(d for d in compile_text(doc(step("a", image="nginx:1.27"))).diagnostics if d.code == "KN015")
    assert "@sha256:<64 hex digits>" in (found.hint or "")


def test_cycle_through_three_steps_is_named(compile_text) -> None:  # type: ignore[no-untyped-def]
    text = doc(step("a", "runAfter: [c]") + step("b", "runAfter: [a]") + step("c", "runAfter: [b]"))
    found = [d for d in compile_text(text).diagnostics if d.code == "KN022"]
    assert len(found) == 1
    assert "a -> b -> c -> a" in found[0].message


def test_unknown_action_type_is_only_a_warning(compile_text) -> None:  # type: ignore[no-untyped-def]
    result = compile_text(doc(step("a", action="custom/thing")))
    assert result.ok
    assert [d.code for d in result.diagnostics] == ["KN043"]
    assert result.workflows[0].steps[0].has_contract is False


def test_duplicate_key_points_at_both_places(compile_text) -> None:  # type: ignore[no-untyped-def]
    found = next(d for d in compile_text(doc(step("a", "retries: 1", "retries: 2"))).diagnostics if d.code == "KN003")
    assert found.related and found.related[0][0].line == 10


@pytest.mark.parametrize(("raw", "words"), [
    (b"", "empty"),
    (b"# only a comment\n", "empty"),
    (b"- a\n- b\n", "not a mapping"),
    (b"just a string\n", "not a mapping"),
    (b"\x00\x01\x02binary", "binary"),
    (b"apiVersion: \xff\xfe\n", "UTF-8"),
])
def test_unreadable_files_get_a_clean_error(catalog, raw: bytes, words: str) -> None:  # type: ignore[no-untyped-def]
    from compiler.frontend import compile_source

    result = compile_source("bad.yaml", raw, catalog)
    assert not result.ok
    assert any(words in d.message and d.code == "KN002" and d.span is not None for d in result.diagnostics)


def test_multi_document_file_compiles_each_workflow(compile_text) -> None:  # type: ignore[no-untyped-def]
    one = doc(step("a"))
    two = one.replace("name: wf", "name: wf2")
    result = compile_text(one + "---\n" + two)
    assert result.ok
    assert [w.name for w in result.workflows] == ["wf", "wf2"]


def test_multi_document_errors_point_into_the_right_document(compile_text) -> None:  # type: ignore[no-untyped-def]
    one = doc(step("a"))
    two = doc(step("b", "retries: -3")).replace("name: wf", "name: wf2")
    result = compile_text(one + "---\n" + two)
    bad = next(d for d in result.diagnostics if d.code == "KN014")
    assert bad.span is not None and bad.span.line == len(one.splitlines()) + 1 + 10
    assert [w.name for w in result.workflows] == ["wf"]
