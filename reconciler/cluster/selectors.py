"""Kubernetes label selectors: parse the string form and match label sets.

Grammar (as ``k8s.io/apimachinery/pkg/labels``), requirements separated by commas, all must hold:
``key=value``, ``key==value``, ``key!=value``, ``key in (v1,v2)``, ``key notin (v1)``, ``key``
(exists) and ``!key`` (does not exist). ``!=`` and ``notin`` also match objects without the key.
The empty selector matches everything. Any syntax or validation error is ``BadRequest`` (400),
which is what the API server answers to a bad ``labelSelector`` query.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .errors import BadRequest

__all__ = [
    "Operator",
    "Requirement",
    "Selector",
    "parse_selector",
    "selector_from",
    "validate_label_key",
    "validate_label_value",
]

_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
# Characters that end an identifier; everything else (including '/') may appear in one.
_SPECIAL = set(",=!() \t\n\r")


class Operator(enum.StrEnum):
    EQUALS = "="
    NOT_EQUALS = "!="
    IN = "in"
    NOT_IN = "notin"
    EXISTS = "exists"
    DOES_NOT_EXIST = "!"


@functools.lru_cache(maxsize=4096)  # every write checks its labels; the keys in use are few
def label_key_error(key: str) -> str | None:
    """Why ``key`` is not a valid label key (``[prefix/]name``), or None."""
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return f"invalid label key {key!r}: prefix must be a DNS subdomain"
    if not name or len(name) > 63 or not _NAME.match(name):
        return (f"invalid label key {key!r}: name must be 63 characters or less, alphanumeric, "
                "'-', '_' or '.', and start and end with an alphanumeric character")
    return None


@functools.lru_cache(maxsize=4096)
def label_value_error(value: str) -> str | None:
    """Why ``value`` is not a valid label value, or None (empty values are valid)."""
    if len(value) > 63 or not _VALUE.match(value):
        return (f"invalid label value {value!r}: must be 63 characters or less, empty or alphanumeric "
                "with '-', '_' or '.' inside")
    return None


def validate_label_key(key: str) -> None:
    if (problem := label_key_error(key)) is not None:
        raise BadRequest(problem)


def validate_label_value(value: str) -> None:
    if (problem := label_value_error(value)) is not None:
        raise BadRequest(problem)


_ABSENT = object()  # a label's "value" when the key is missing: in no set of values


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: Operator
    values: frozenset[str] = frozenset()
    # The test, chosen once: every watch event is matched against every watcher's selector.
    _check: Callable[[Mapping[str, str]], bool] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        key, values = self.key, self.values
        check: Callable[[Mapping[str, str]], bool]
        match self.operator:
            case Operator.EXISTS:
                check = lambda labels: key in labels  # noqa: E731
            case Operator.DOES_NOT_EXIST:
                check = lambda labels: key not in labels  # noqa: E731
            case Operator.EQUALS | Operator.IN:
                check = lambda labels: labels.get(key, _ABSENT) in values  # noqa: E731
            case Operator.NOT_EQUALS | Operator.NOT_IN:
                check = lambda labels: labels.get(key, _ABSENT) not in values  # noqa: E731
            case _:  # pragma: no cover - exhaustive match
                raise AssertionError(self.operator)
        object.__setattr__(self, "_check", check)

    def matches(self, labels: Mapping[str, str]) -> bool:
        return self._check(labels)

    def __str__(self) -> str:
        match self.operator:
            case Operator.EXISTS:
                return self.key
            case Operator.DOES_NOT_EXIST:
                return f"!{self.key}"
            case Operator.EQUALS | Operator.NOT_EQUALS:
                (value,) = self.values
                return f"{self.key}{self.operator.value}{value}"
            case _:
                return f"{self.key} {self.operator.value} ({','.join(sorted(self.values))})"


@dataclass(frozen=True)
class Selector:
    """A conjunction of requirements; ``str()`` gives the canonical form (sorted by key)."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        labels = labels or {}
        for requirement in self.requirements:  # noqa: SIM110 (a loop, not all(<generator>): asked per event per watcher)
            if not requirement._check(labels):
                return False
        return True

    @property
    def empty(self) -> bool:
        return not self.requirements

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def selector_from(spec: str | Mapping[str, str] | None) -> Selector:
    """A selector from a string, an equality mapping, or None (matches everything)."""
    if spec is None:
        return Selector()
    if isinstance(spec, str):
        return parse_selector(spec)
    requirements = []
    for key, value in spec.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise BadRequest(f"label selector mapping must be str -> str, got {key!r}: {value!r}")
        validate_label_key(key)
        validate_label_value(value)
        requirements.append(Requirement(key, Operator.EQUALS, frozenset({value})))
    return _canonical(requirements)


def parse_selector(text: str) -> Selector:
    """Parse the string form; raises BadRequest on anything the API server would reject."""
    return _Parser(text).parse()


def _canonical(requirements: list[Requirement]) -> Selector:
    # Sorted like apimachinery's String(); stable so duplicates of one key keep their order.
    return Selector(tuple(sorted(requirements, key=lambda r: r.key)))


class _Parser:
    """A hand-written recursive-descent parser over a tiny token stream."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = self._lex(text)
        self.pos = 0

    def _lex(self, text: str) -> list[str]:
        tokens: list[str] = []
        i = 0
        while i < len(text):
            ch = text[i]
            if ch.isspace():
                i += 1
            elif text.startswith(("==", "!="), i):
                tokens.append(text[i:i + 2])
                i += 2
            elif ch in _SPECIAL:
                tokens.append(ch)
                i += 1
            else:
                start = i
                while i < len(text) and text[i] not in _SPECIAL and not text[i].isspace():
                    i += 1
                tokens.append(text[start:i])
        return tokens

    def _fail(self, why: str) -> BadRequest:
        return BadRequest(f"unable to parse requirement: {why} in label selector {self.text!r}")

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self) -> str | None:
        token = self._peek()
        self.pos += 1
        return token

    @staticmethod
    def _is_ident(token: str | None) -> bool:
        return token is not None and token[0] not in _SPECIAL

    def parse(self) -> Selector:
        if not self.tokens:
            return Selector()
        requirements = [self._requirement()]
        while (token := self._take()) is not None:
            if token != ",":
                raise self._fail(f"expected ',' but found {token!r}")
            requirements.append(self._requirement())
        return _canonical(requirements)

    def _key(self) -> str:
        token = self._take()
        if not self._is_ident(token):
            raise self._fail(f"expected a label key but found {token!r}")
        assert token is not None
        if (problem := label_key_error(token)) is not None:
            raise self._fail(problem)
        return token

    def _requirement(self) -> Requirement:
        if self._peek() == "!":
            self._take()
            return Requirement(self._key(), Operator.DOES_NOT_EXIST)
        key = self._key()
        op = self._peek()
        if op is None or op == ",":
            return Requirement(key, Operator.EXISTS)
        self._take()
        if op in ("=", "==", "!="):
            operator = Operator.NOT_EQUALS if op == "!=" else Operator.EQUALS
            return Requirement(key, operator, frozenset({self._value(allow_empty_before=(",", None))}))
        if op in ("in", "notin"):
            return Requirement(key, Operator(op), self._value_set())
        raise self._fail(f"expected one of '=', '==', '!=', 'in', 'notin' after {key!r} but found {op!r}")

    def _value(self, allow_empty_before: tuple[str | None, ...]) -> str:
        token = self._peek()
        if token in allow_empty_before:
            return ""  # `a=` and `a in (x,)`: the empty value is a valid label value
        self._take()
        if not self._is_ident(token):
            raise self._fail(f"expected a label value but found {token!r}")
        assert token is not None
        if (problem := label_value_error(token)) is not None:
            raise self._fail(problem)
        return token

    def _value_set(self) -> frozenset[str]:
        if self._take() != "(":
            raise self._fail("expected '(' after in/notin")
        # `()` is the set {""} (apimachinery's reading), so `a in ()` means "a is set to ''".
        values = {self._value(allow_empty_before=(",", ")"))}
        while (token := self._take()) == ",":
            values.add(self._value(allow_empty_before=(",", ")")))
        if token != ")":
            raise self._fail(f"expected ',' or ')' but found {token!r}")
        return frozenset(values)
