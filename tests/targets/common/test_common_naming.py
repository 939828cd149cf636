"""targets.common.naming: knative kmeta.ChildName, byte for byte, and the DNS-1123 checks."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from targets.common.naming import (
    DNS1123_LABEL_MAX,
    child_name,
    is_dns1123_label,
    is_dns1123_subdomain,
)


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


# The table of knative.dev/pkg kmeta/names_test.go (TestChildName): Go's own expected values.
KNATIVE_TABLE = [
    ("asdf", "-deployment", "asdf-deployment"),
    ("f" * 63, "-deployment", "ffffffffffffffffffff105d7597f637e83cc711605ac3ea4957-deployment"),
    ("f" * 63, "-deploy", "ffffffffffffffffffffffff105d7597f637e83cc711605ac3ea4957-deploy"),
    ("f" * 63, "f" * 63, "fffffffffffffffffffffffffffffff0502661254f13c89973cb3a83e0cbec0"),
    ("a", "f" * 63, "ab5cfd486935decbc0d305799f4ce4414ffffffffffffffffffffffffffffff"),
    ("b" * 32, "f" * 32, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb329c7c81b9ab3ba71aa139066aa5625d"),
    ("aaaa", "b---a" * 20, "aaaa7a3f7966594e3f0849720eced8212c18b---ab---ab---ab---ab---ab"),
    ("a" * 17, "a.-.-.-.-.-.-.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "aaaaaaaaaaaaaaaaaa1eb10dc911444f8434af83b7225442da"),
]


@pytest.mark.parametrize(("parent", "suffix", "want"), KNATIVE_TABLE)
def test_matches_knative_table(parent: str, suffix: str, want: str) -> None:
    assert child_name(parent, suffix) == want


def test_fits_unchanged_up_to_63_characters() -> None:
    parent = "p" * 53
    assert child_name(parent, "-git-clone") == parent + "-git-clone"  # exactly 63


def test_one_character_too_long_hashes_the_parent_and_keeps_the_suffix() -> None:
    # len(parent) = 54 > 63 - 10: keep 31 - 10 = 21 bytes of the parent, md5(parent), suffix.
    parent = "payment-oom-fix-" + "x" * 38
    got = child_name(parent, "-git-clone")
    assert got == parent[:21] + md5(parent) + "-git-clone"
    assert len(got) == 63


def test_prefix_may_end_in_a_dash_because_the_hash_follows() -> None:
    # Go does not trim in this branch: "workflow-" + hash + suffix.
    parent = "workflow-" + "a" * 60
    assert child_name(parent, "-" + "s" * 21) == "workflow-" + md5(parent) + "-" + "s" * 21


def test_suffix_of_exactly_31_takes_the_long_suffix_branch() -> None:
    # head - len(suffix) == 0: the whole of parent+suffix is hashed.
    parent, suffix = "p" * 40, "-" + "s" * 30
    assert child_name(parent, suffix) == "p" * 31 + md5(parent + suffix)


def test_long_suffix_with_short_parent_pads_with_the_suffix_and_trims_dashes() -> None:
    suffix = "-" * 20 + "z" * 42  # 64 bytes in all: too long, and the suffix leaves no room
    # "ab" + md5 (34 bytes) + the first 29 bytes of the suffix.
    assert child_name("ab", suffix) == "ab" + md5("ab" + suffix) + "-" * 20 + "z" * 9
    # When the padding is all dashes, they are trimmed.
    dashes = "-" * 30 + "z" * 32
    assert child_name("ab", dashes) == "ab" + md5("ab" + dashes)


def test_tekton_taskrun_names() -> None:
    # Tekton: TaskRun name = ChildName(pipelineRun.name, "-" + pipelineTask.name).
    assert child_name("payment-oom-fix-run", "-git-clone") == "payment-oom-fix-run-git-clone"
    pr = "payment-oom-fix-" + "0123456789" * 5
    assert child_name(pr, "-git-clone") == pr[:21] + md5(pr) + "-git-clone"


def test_empty_parent_and_suffix() -> None:
    assert child_name("", "") == ""
    assert child_name("abc", "") == "abc"
    assert child_name("a" * 64, "") == "a" * 31 + md5("a" * 64)


# --- properties -----------------------------------------------------------------------------

_label = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", fullmatch=True)
_any = st.text(max_size=120)


@settings(max_examples=500)
@given(_any, _any)
def test_never_longer_than_63_bytes_and_deterministic(parent: str, suffix: str) -> None:
    name = child_name(parent, suffix)
    assert len(name.encode()) <= DNS1123_LABEL_MAX or name == parent + suffix
    assert child_name(parent, suffix) == name


@settings(max_examples=500)
@given(st.text(alphabet="abc-.", max_size=120), st.text(alphabet="abc-.", max_size=120))
def test_ascii_names_are_at_most_63(parent: str, suffix: str) -> None:
    if len(parent + suffix) > DNS1123_LABEL_MAX:
        assert len(child_name(parent, suffix)) <= DNS1123_LABEL_MAX
    else:
        assert child_name(parent, suffix) == parent + suffix


@settings(max_examples=500)
@given(_label, st.one_of(st.just(""), _label, _label.map(lambda s: "-" + s)))
def test_valid_inputs_give_a_valid_dns1123_label(parent: str, suffix: str) -> None:
    # A suffix may start with '-' (Tekton's "-" + task name) but not the parent.
    assert is_dns1123_label(child_name(parent, suffix))


@settings(max_examples=300)
@given(st.lists(st.tuples(_label, _label.map(lambda s: "-" + s)), min_size=2, max_size=30, unique=True))
def test_distinct_inputs_give_distinct_names(pairs: list[tuple[str, str]]) -> None:
    # Distinct concatenations never collide in practice (ChildName("a-", "b") == ChildName("a", "-b")
    # by design, so compare concatenations).
    by_concat = {p + s: child_name(p, s) for p, s in pairs}
    assert len(set(by_concat.values())) == len(by_concat)


@settings(max_examples=200)
@given(_label, st.lists(_label, min_size=2, max_size=20, unique=True))
def test_siblings_of_a_long_parent_do_not_collide(tail: str, tasks: list[str]) -> None:
    parent = "w" * 50 + tail  # always truncated
    names = [child_name(parent, "-" + task) for task in tasks]
    assert len(set(names)) == len(names)


# --- DNS-1123 -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a", "a-b", "0", "abc123", "a" * 63, "1-2"])
def test_valid_labels(name: str) -> None:
    assert is_dns1123_label(name)
    assert is_dns1123_subdomain(name)


@pytest.mark.parametrize(
    "name", ["", "-a", "a-", "A", "a_b", "a.b", "a" * 64, "a\n", "é", " a", None, 3]
)
def test_invalid_labels(name: object) -> None:
    assert not is_dns1123_label(name)


@pytest.mark.parametrize("name", ["a.b", "a-b.c-d.e", "example.com", ("a" * 63 + ".") * 3 + "a" * 61])
def test_valid_subdomains(name: str) -> None:
    assert is_dns1123_subdomain(name)


@pytest.mark.parametrize("name", ["", ".a", "a.", "a..b", "a.-b", "A.b", "a" * 254, "a.b\n", None])
def test_invalid_subdomains(name: object) -> None:
    assert not is_dns1123_subdomain(name)
