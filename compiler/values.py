"""Parsers for the small value languages of the spec: Go durations, image references,
DNS-1123 names and Kubernetes quantities. Each returns a result or a human message, never raises.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from dataclasses import dataclass

_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
# Go's time.Duration is an int64 of nanoseconds: 2562047h47m16.854775807s at most.
MAX_DURATION_SECONDS = (2**63 - 1) / 1e9
_MAX_DURATION_TEXT = "2562047h47m16s"
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_LABEL_MAX = 63


def parse_duration(text: str) -> tuple[float | None, str | None]:
    """Go's ``time.ParseDuration`` grammar (no sign allowed here: timeouts are positive).

    Returns (seconds, None) or (None, problem).
    """
    if not text:
        return None, "empty duration"
    if text[0] in "+-":
        return None, "durations cannot be signed"
    pos, total = 0, 0.0
    while pos < len(text):
        match = _DURATION_PART.match(text, pos)
        if match is None:
            rest = text[pos:]
            if re.match(r"\d+(\.\d*)?$", rest):
                return None, f"missing unit in duration '{text}'"
            return None, f"invalid duration '{text}'"
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    if total <= 0:
        return None, f"duration '{text}' must be greater than zero"
    if total > MAX_DURATION_SECONDS:
        # Go cannot parse it (Tekton's timeouts), and activeDeadlineSeconds would be absurd.
        return None, f"duration '{text}' is longer than the longest Go duration ({_MAX_DURATION_TEXT})"
    return total, None


def whole_seconds(seconds: float) -> int:
    """Kubernetes deadlines are whole seconds; round up so a timeout is never shortened."""
    return max(1, math.ceil(seconds - 1e-9))


def format_duration(seconds: int) -> str:
    """Canonical Go-style rendering: ``90`` -> ``1m30s``, ``3600`` -> ``1h0m0s``."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


def dns1123_label_problem(name: str) -> str | None:
    if not name:
        return "name is empty"
    if len(name) > DNS1123_LABEL_MAX:
        return f"'{name}' is {len(name)} characters long; the limit is {DNS1123_LABEL_MAX}"
    if not DNS1123_LABEL.match(name):
        return (f"'{name}' is not a DNS-1123 label: lowercase letters, digits and '-', "
                "starting and ending with a letter or digit")
    return None


# -- image references -------------------------------------------------------------------------

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_HOST_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_DOMAIN = rf"(?:{_HOST_LABEL}(?:\.{_HOST_LABEL})*(?::\d+)?|\[[0-9a-fA-F:]+\](?::\d+)?)"
_REPO = re.compile(rf"^(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")

PINNED_FORM = "registry/repository[:tag]@sha256:<64 hex digits>"


@dataclass(frozen=True)
class ImageRef:
    repository: str
    tag: str | None
    digest: str

    def __str__(self) -> str:
        tag = f":{self.tag}" if self.tag else ""
        return f"{self.repository}{tag}@{self.digest}"


def parse_image(text: str) -> tuple[ImageRef | None, str | None]:
    """Parse a digest-pinned reference; (None, problem) for tag-only or malformed ones."""
    if "@" not in text:
        return None, f"image '{text}' is not pinned by digest"
    name, _, digest = text.partition("@")
    if not _DIGEST.match(digest):
        return None, f"image '{text}' has a malformed digest '{digest}' (expected sha256: and 64 lowercase hex digits)"
    repository, tag = name, None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        repository, tag = name.rsplit(":", 1)
        if not _TAG.match(tag):
            return None, f"image '{text}' has an invalid tag '{tag}'"
    if not _REPO.match(repository):
        return None, f"image '{text}' has an invalid repository name '{repository}'"
    return ImageRef(repository, tag, digest), None


# -- quantities -------------------------------------------------------------------------------

_QUANTITY = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?\d+)?$")


def quantity_problem(text: str) -> str | None:
    match = _QUANTITY.match(text)
    if match is None:
        return f"'{text}' is not a Kubernetes quantity (for example 1Gi, 500Mi)"
    if float(match.group(1)) <= 0:
        return f"'{text}' must be greater than zero"
    return None


# -- label keys and values, object names ------------------------------------------------------

DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
DNS1123_SUBDOMAIN_MAX = 253
# k8s.io/apimachinery/pkg/util/validation: a qualified name and a label value share this form.
_QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_QUALIFIED_NAME_MAX = 63


def dns1123_subdomain_problem(name: str) -> str | None:
    """Why ``name`` is not a Kubernetes object name (a DNS-1123 subdomain), or None."""
    if not name:
        return "name is empty"
    if len(name) > DNS1123_SUBDOMAIN_MAX:
        return f"'{name}' is {len(name)} characters long; the limit is {DNS1123_SUBDOMAIN_MAX}"
    if not DNS1123_SUBDOMAIN.fullmatch(name):
        return (f"'{name}' is not a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', "
                "starting and ending with a letter or digit")
    return None


def label_key_problem(key: str) -> str | None:
    """Why ``key`` is not a label key (``[prefix/]name``, Kubernetes' qualified name), or None."""
    prefix, slash, name = key.rpartition("/")
    if slash and (problem := dns1123_subdomain_problem(prefix)) is not None:
        return f"the prefix of label key '{key}' is not valid: {problem}"
    if not name:
        return f"label key '{key}' has an empty name"
    if len(name) > _QUALIFIED_NAME_MAX:
        return f"the name part of label key '{key}' is {len(name)} characters long; the limit is {_QUALIFIED_NAME_MAX}"
    if not _QUALIFIED_NAME.fullmatch(name):
        return (f"label key '{key}' is not valid: its name must be letters, digits, '-', '_' and '.', "
                "starting and ending with a letter or digit, after an optional DNS subdomain prefix and '/'")
    return None


def label_value_problem(value: str) -> str | None:
    """Why ``value`` is not a label value (empty, or a qualified name of at most 63), or None."""
    if len(value) > _QUALIFIED_NAME_MAX:
        return f"label value '{value}' is {len(value)} characters long; the limit is {_QUALIFIED_NAME_MAX}"
    if value and not _QUALIFIED_NAME.fullmatch(value):
        return (f"label value '{value}' is not valid: letters, digits, '-', '_' and '.', "
                "starting and ending with a letter or digit (or empty)")
    return None


# -- action types -----------------------------------------------------------------------------

_ACTION_SEGMENT = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
ACTION_TYPE = re.compile(rf"{_ACTION_SEGMENT}(?:/{_ACTION_SEGMENT})*")
ACTION_TYPE_MAX = 253


def action_type_problem(action_type: str) -> str | None:
    """Why ``action_type`` is not an action type, or None.

    Strict on purpose: the action type reaches object names (sanitised), labels, and Tekton
    parameters and Task names that Tekton substitutes ``$(...)`` in, so anything outside letters,
    digits, ``.``, ``_``, ``-`` and ``/``-separated segments is refused before either target sees it.
    """
    if not action_type:
        return "the action type is empty"
    if len(action_type) > ACTION_TYPE_MAX:
        return f"'{action_type[:40]}...' is {len(action_type)} characters long; the limit is {ACTION_TYPE_MAX}"
    if not ACTION_TYPE.fullmatch(action_type):
        return (f"'{action_type}' is not an action type: letters, digits, '.', '_' and '-' in segments "
                "separated by '/', each starting and ending with a letter or digit")
    return None


# -- the names of an action type's account ----------------------------------------------------

_NOT_LABEL_CHAR = re.compile(r"[^a-z0-9-]")
#: Hex digits of the digests that make account names injective (48 bits: finding another action
#: type or image with the same readable part and digest takes ~2^48 hashes).
ACCOUNT_DIGEST_LEN = 12
_TYPE_DIGEST_LEN = 8


def action_type_stem(action_type: str) -> str:
    """The readable part of the names derived from an action type: lower-cased, anything outside
    ``[a-z0-9-]`` turned into ``-`` (``git/clone`` -> ``git-clone``). Not injective by itself:
    the targets always append a digest."""
    return _NOT_LABEL_CHAR.sub("-", action_type.lower()).strip("-") or "action"


# Pure, memoised: every compile derives the same few account names again (two digests a step).
@functools.lru_cache(maxsize=1024)
def _digest(text: str, length: int) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:length]


def action_type_digest(action_type: str) -> str:
    """A digest of the exact action type (look-alikes differ)."""
    return _digest(action_type, _TYPE_DIGEST_LEN)


def image_digest(image: str) -> str:
    """``repo@sha256:...`` -> ``sha256:...``: what identifies the image's content (the whole
    reference when it has no digest)."""
    return image.rpartition("@")[2] or image


def action_account_digest(action_type: str, image: str) -> str:
    """A digest of the exact action type and the image's digest: one account per pair."""
    return _digest(f"{action_type}\n{image_digest(image)}", ACCOUNT_DIGEST_LEN)
