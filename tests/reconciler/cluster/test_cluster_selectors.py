from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.cluster.errors import BadRequest
from reconciler.cluster.selectors import Operator, Requirement, Selector, parse_selector, selector_from

LABELS = {"app": "web", "tier": "front", "example.com/team": "sre", "empty": ""}


@pytest.mark.parametrize(("text", "matches"), [
    ("", True),
    ("app=web", True),
    ("app==web", True),
    ("app = web", True),
    ("app=db", False),
    ("app!=db", True),
    ("app!=web", False),
    ("missing!=x", True),           # != also matches objects without the key
    ("app in (web,db)", True),
    ("app in (db)", False),
    ("app notin (db, cache)", True),
    ("app notin (web)", False),
    ("missing notin (x)", True),
    ("app", True),
    ("missing", False),
    ("!missing", True),
    ("!app", False),
    ("empty=", True),
    ("empty in (x,)", True),
    ("empty in ()", True),           # apimachinery reads () as the set {""}
    ("app in ()", False),
    ("example.com/team=sre,app=web,tier", True),
    ("app=web,tier=back", False),
    (" app in ( web , db ) , !missing ", True),
])
def test_matching(text: str, matches: bool) -> None:
    assert parse_selector(text).matches(LABELS) is matches


@pytest.mark.parametrize("text", [
    "app=web,", ",app", "app in (web", "app in web", "app web", "=web", "!", "!app=web",
    "app=we b", "app=(web)", "a b=c", "-app=web", "app=web-", "Bad/x=1", "app=" + "v" * 64,
    "k" * 64 + "=v", "app<3", "app notin", "app in (a))", "app,,tier",
])
def test_invalid_selectors_are_bad_request(text: str) -> None:
    with pytest.raises(BadRequest) as info:
        parse_selector(text)
    assert info.value.status == 400 and info.value.reason == "BadRequest"


def test_canonical_string_sorts_requirements_and_values() -> None:
    selector = parse_selector("tier notin (b, a), app==web, !gone, x")
    assert str(selector) == "app=web,!gone,tier notin (a,b),x"
    assert parse_selector(str(selector)) == selector


def test_mapping_and_none() -> None:
    assert selector_from({"app": "web"}) == parse_selector("app=web")
    assert selector_from(None).matches({}) and selector_from({}).empty
    with pytest.raises(BadRequest):
        selector_from({"app": "not valid"})
    assert not selector_from({"app": "web"}).matches(None)


# -- property-based ------------------------------------------------------------------------------

_alnum = st.sampled_from("abcxyz019ABZ")
_inner = st.sampled_from("abz09-_.")
# Valid label names: alphanumeric at both ends, '-', '_' or '.' only inside.
_names = st.builds(lambda a, mid, b: a + (mid + b if b else ""), _alnum,
                   st.text(_inner, max_size=5), st.text(_alnum, max_size=1))
_prefixes = st.sampled_from(["", "example.com/", "kubernaut.ai/", "a/"])
keys = st.builds(lambda p, n: p + n, _prefixes, _names)
values = st.one_of(st.just(""), _names)


@st.composite
def requirements(draw: st.DrawFn) -> Requirement:
    op = draw(st.sampled_from(list(Operator)))
    key = draw(keys)
    if op in (Operator.EQUALS, Operator.NOT_EQUALS):
        return Requirement(key, op, frozenset({draw(values)}))
    if op in (Operator.IN, Operator.NOT_IN):
        return Requirement(key, op, frozenset(draw(st.lists(values, min_size=1, max_size=3))))
    return Requirement(key, op)


selectors = st.lists(requirements(), max_size=4).map(
    lambda reqs: Selector(tuple(sorted(reqs, key=lambda r: r.key))))
label_sets = st.dictionaries(keys, values, max_size=4)


def _render(req: Requirement, spaced: bool, double: bool) -> str:
    sp = " " if spaced else ""
    if req.operator is Operator.EQUALS:
        return f"{req.key}{sp}{'==' if double else '='}{sp}{next(iter(req.values))}"
    if req.operator in (Operator.IN, Operator.NOT_IN):
        return f"{req.key} {req.operator.value}{sp}({f',{sp}'.join(sorted(req.values))})"
    return str(req)


@given(selectors, st.booleans(), st.booleans())
def test_round_trip_through_any_rendering(selector: Selector, spaced: bool, double: bool) -> None:
    text = f"{' ' if spaced else ''},".join(_render(r, spaced, double) for r in selector.requirements)
    assert parse_selector(text) == selector
    assert parse_selector(str(selector)) == selector


def _reference_match(req: Requirement, labels: dict[str, str]) -> bool:
    value = labels.get(req.key)
    return {
        Operator.EXISTS: value is not None,
        Operator.DOES_NOT_EXIST: value is None,
        Operator.EQUALS: value is not None and value in req.values,
        Operator.IN: value is not None and value in req.values,
        Operator.NOT_EQUALS: value is None or value not in req.values,
        Operator.NOT_IN: value is None or value not in req.values,
    }[req.operator]


@given(selectors, label_sets)
def test_matching_agrees_with_a_reference_model(selector: Selector, labels: dict[str, str]) -> None:
    assert selector.matches(labels) == all(_reference_match(r, labels) for r in selector.requirements)


@given(label_sets)
def test_mapping_selector_matches_its_own_labels(labels: dict[str, str]) -> None:
    assert selector_from(labels).matches(labels)
    assert selector_from(labels).matches({**labels, "extra": "1"})


@given(st.text(alphabet=st.sampled_from("ab=!(),. -/in"), max_size=20) | st.text(max_size=20))
def test_garbage_is_parsed_or_rejected_with_400_never_crashes(text: str) -> None:
    try:
        selector = parse_selector(text)
    except BadRequest:
        return
    assert parse_selector(str(selector)) == selector
