"""Issue #15, item 4: child names are unique per (workflow, step), so two workflows of a namespace
never share a step's ActionExecution or Jobs — workflow ``a`` step ``b-c`` and workflow ``a-b``
step ``c`` used to both get ``a-b-c``, and the second sat Pending until its timeout."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from refusal_harness import RefusingHarness
from support.workflows import step, workflow

from kubernaut.cli.common import run_frontend
from reconciler.engines.jobs import names as runtime_names
from targets.common.naming import is_dns1123_subdomain, step_object_name
from targets.jobs import names as target_names


def test_the_ambiguous_pair_gets_two_names() -> None:
    assert step_object_name("a", "b-c") != step_object_name("a-b", "c")
    assert step_object_name("a", "b-c").startswith("a-b-c-")  # still readable
    assert step_object_name("web", "fix") == "web-fix"  # unambiguous names stay as they were


def test_the_preview_and_the_controllers_compute_the_same_names(tmp_path: Path) -> None:
    doc = workflow("a-b", step("c") + step("d-e", after=["c"]))
    path = tmp_path / "wf.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = run_frontend([path], [])
    assert result.ok
    wf = result.units[0].workflow
    assert wf is not None
    for s in wf.steps:
        assert target_names.action_execution_name(wf, s) == runtime_names.action_execution_name(wf.name, s.name)
        assert target_names.job_name(wf, s, 2) == runtime_names.job_name(runtime_names.action_execution_name(
            wf.name, s.name), 2)


_LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)


@pytest.mark.slow
@given(st.lists(st.tuples(_LABEL, _LABEL), min_size=2, max_size=8, unique=True))
def test_distinct_pairs_never_share_a_name(pairs: list[tuple[str, str]]) -> None:
    names = [step_object_name(w, s) for w, s in pairs]
    assert len(set(names)) == len(names)
    assert all(is_dns1123_subdomain(n) and len(n) <= 63 for n in names)


def test_every_split_of_a_hyphenated_name_is_its_own() -> None:
    text = "a-b-c-d"
    parts = text.split("-")
    pairs = [("-".join(parts[:i]), "-".join(parts[i:])) for i in range(1, len(parts))]
    names = [step_object_name(w, s) for w, s in pairs]
    assert len(set(names)) == len(names)
    assert not any(a == b for a, b in itertools.combinations(names, 2))


def test_both_workflows_run_side_by_side_on_v1() -> None:
    h = RefusingHarness()
    h.create(workflow("a", step("b-c", inputs={"who": "a"}), spec="engine: jobs"))
    h.create(workflow("a-b", step("c", inputs={"who": "a-b"}), spec="engine: jobs"))
    assert h.run()
    assert h.step("a", "b-c")["phase"] == "Succeeded" and h.step("a", "b-c")["outputs"] == {"who": "a"}
    assert h.step("a-b", "c")["phase"] == "Succeeded" and h.step("a-b", "c")["outputs"] == {"who": "a-b"}
    owners = {ae["metadata"]["name"]: ae["metadata"]["ownerReferences"][0]["name"]
              for ae in h.cluster.objects("ActionExecution")}
    assert sorted(owners.values()) == ["a", "a-b"]
