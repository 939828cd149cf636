"""Deterministic Kubernetes object names.

``step_object_name`` names the objects of one step of one workflow (V1's ActionExecution, and its
Jobs after it), unique per (workflow, step) pair: ``<workflow>-<step>`` alone is ambiguous —
workflow ``a`` step ``b-c`` and workflow ``a-b`` step ``c`` would share ``a-b-c`` in a namespace.

``child_name`` reproduces knative.dev/pkg ``kmeta.ChildName`` byte for byte, because Tekton names
every TaskRun ``ChildName(pipelineRun.name, "-" + pipelineTask.name)``: the V2 engine must be able
to predict those names, and the V1 engine uses the same rule so that both engines name the
children of one workflow alike (docs/architecture.md, "Deterministic names").
"""

from __future__ import annotations

import functools
import hashlib
import re

DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253

# The RFC 1123 label as Kubernetes spells it (k8s.io/apimachinery/pkg/util/validation).
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_LABEL_RE = re.compile(_LABEL)
_SUBDOMAIN_RE = re.compile(rf"{_LABEL}(\.{_LABEL})*")

# kmeta: the longest name is 63; a truncated name keeps `_HEAD` bytes of the parent so that the
# 32 hex digits of an MD5 sum still fit.
_LONGEST = DNS1123_LABEL_MAX
_MD5_HEX_LEN = 32
_HEAD = _LONGEST - _MD5_HEX_LEN


def is_dns1123_label(value: object) -> bool:
    """True for a valid RFC 1123 label: lower-case alphanumerics and '-', at most 63 characters."""
    # fullmatch, not match + `$`: `$` would also accept a trailing newline.
    return isinstance(value, str) and len(value) <= DNS1123_LABEL_MAX and bool(_LABEL_RE.fullmatch(value))


def is_dns1123_subdomain(value: object) -> bool:
    """True for a valid RFC 1123 subdomain: dot-separated labels, at most 253 characters."""
    return (
        isinstance(value, str)
        and len(value) <= DNS1123_SUBDOMAIN_MAX
        and bool(_SUBDOMAIN_RE.fullmatch(value))
    )


def _md5_hex(data: bytes) -> bytes:
    # Not a security use: the digest only makes truncated names unique (FIPS builds need the flag).
    return hashlib.md5(data, usedforsecurity=False).hexdigest().encode("ascii")


def _trim_to_alphanumeric_end(name: bytes) -> bytes:
    # kmeta's makeValidName: truncation may leave a trailing '-' or '.', which no DNS name allows.
    # The name always contains the hex digest, so the loop stops before the string is empty.
    # bytes.isalnum() is ASCII-only, like Go's `^[a-zA-Z0-9]*$` applied to one byte.
    while name and not name[-1:].isalnum():
        name = name[:-1]
    return name


@functools.lru_cache(maxsize=4096)  # pure, and asked for the same names again on every reconcile
def child_name(parent: str, suffix: str) -> str:
    """The name of a child object, exactly as knative.dev/pkg ``kmeta.ChildName`` computes it.

    * ``parent + suffix`` when it fits in 63 characters;
    * otherwise, when the suffix is shorter than 31 characters: the parent truncated to
      ``31 - len(suffix)`` characters, the MD5 hex of the (whole) parent, then the suffix —
      exactly 63 characters, and the suffix stays readable;
    * otherwise (long suffix): the parent truncated to 31 characters, the MD5 hex of
      ``parent + suffix``, padded to 63 with the beginning of the suffix, and trailing
      non-alphanumerics removed.

    Go measures lengths in bytes, so this does too (names are ASCII in practice; a multi-byte
    character cut in half by the truncation is dropped, where Go would keep an invalid byte).
    """
    parent_b = parent.encode("utf-8")
    suffix_b = suffix.encode("utf-8")
    if len(parent_b) <= _LONGEST - len(suffix_b):
        return parent + suffix
    if _HEAD - len(suffix_b) <= 0:
        # The suffix alone would not leave room for the hash: hash everything, keep what fits.
        name = parent_b[:_HEAD] + _md5_hex(parent_b + suffix_b)
        room = _LONGEST - len(name)
        if room > 0:
            name += suffix_b[:room]
        return _trim_to_alphanumeric_end(name).decode("utf-8", errors="ignore")
    # Only the parent is hashed here: siblings keep a common prefix and differ by their suffix.
    name = parent_b[: _HEAD - len(suffix_b)] + _md5_hex(parent_b) + suffix_b
    return name.decode("utf-8", errors="ignore")


#: Hex digits of the (workflow, step) digest that disambiguates a step's object name.
STEP_DIGEST_LEN = 6


# A pure function of two names, memoised: the controllers derive the names of a step's objects
# from it several times per step (a digest each time).
@functools.lru_cache(maxsize=4096)
def step_object_name(workflow: str, step: str) -> str:
    """``<workflow>-<step>``, plus ``-<digest of the pair>`` whenever either contains a ``-``.

    Without a ``-`` in either, the one ``-`` of the name shows where the workflow ends, so the
    name is unambiguous and stays short. Otherwise the pair could be split elsewhere (``a``/``b-c``
    and ``a-b``/``c``), so a digest of the pair (``/`` cannot occur in either name) makes it
    unique — and such names always hold at least two ``-``, so they never meet a name of the first
    kind. Deterministic (the preview and the controllers compute the same), at most 63
    characters (``child_name``). A name taken anyway (by hand, or a crafted digest collision) is
    caught when the object is created: its owner is not the step's, and the step fails.
    """
    if "-" not in workflow and "-" not in step:
        return child_name(workflow, "-" + step)
    digest = hashlib.sha256(f"{workflow}/{step}".encode()).hexdigest()[:STEP_DIGEST_LEN]
    return child_name(workflow, f"-{step}-{digest}")
