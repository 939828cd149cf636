"""Copies of JSON objects: a fast mutable copy, and a read-only snapshot shared by watchers.

The embedded API server hands every watcher the same change. Copying it once per watcher was
most of the CPU of a busy ``kubernaut run``; instead each change is copied once into a read-only
snapshot (dict and list subclasses that refuse mutation) that every watcher shares. A watcher
that wants to edit what it received calls ``copy.deepcopy`` (or :func:`thaw`), which yields
plain, mutable dicts and lists: mutating a received object can never reach the store or another
watcher's view, it raises instead.
"""

from __future__ import annotations

from typing import Any, NoReturn

__all__ = ["LEAF_TYPES", "FrozenDict", "FrozenList", "NotJson", "freeze", "frozen_json", "json_copy", "thaw"]

_READ_ONLY = ("objects read from the cluster or a cache are shared, read-only snapshots: copy.deepcopy() one "
              "to change it")


def _refuse(*_args: Any, **_kwargs: Any) -> NoReturn:
    raise TypeError(_READ_ONLY)


class FrozenDict(dict[str, Any]):
    """A dict that refuses mutation; ``copy.deepcopy`` returns a plain, mutable copy."""

    __slots__ = ()
    __setitem__ = __delitem__ = _refuse
    clear = pop = popitem = setdefault = update = __ior__ = _refuse

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return thaw(self)

    def __copy__(self) -> dict[str, Any]:
        return dict(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (thaw(self),))


class FrozenList(list[Any]):
    """A list that refuses mutation; ``copy.deepcopy`` returns a plain, mutable copy."""

    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        return thaw(self)

    def __copy__(self) -> list[Any]:
        return list(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (list, (thaw(self),))


_NOTHING = object()  # a ``like`` that shares nothing, unlike None which means "use _frozen_copy"

#: The types of a JSON value's leaves: immutable, so copies share them (no call per leaf).
LEAF_TYPES = frozenset({str, int, float, bool, type(None)})


def json_copy(value: Any) -> Any:
    """A deep copy of a JSON value (dicts, lists, scalars): several times faster than
    ``copy.deepcopy``, which keeps a memo for cycles and shared references JSON cannot have."""
    kind = type(value)
    if kind is dict or kind is FrozenDict:
        return {k: v if type(v) in LEAF_TYPES else json_copy(v) for k, v in value.items()}
    if kind is list or kind is FrozenList:
        return [v if type(v) in LEAF_TYPES else json_copy(v) for v in value]
    if isinstance(value, dict):  # other subclasses (rare): the general path
        return {k: json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_copy(v) for v in value]
    return value


def freeze(value: Any, like: Any = None) -> Any:
    """A read-only deep copy of a JSON value. Already frozen parts are shared, not copied, and so
    are the parts equal to the same place in ``like`` (a frozen earlier version): a new version
    of an object copies only what changed. (Equality is Python's, as for the API server's
    no-op detection: ``1 == 1.0 == True``; no Kubernetes field changes type between versions.)"""
    kind = type(value)
    if kind is FrozenDict or kind is FrozenList:
        # A frozen part built elsewhere (a request body made of what a client read): share the
        # stored one when equal, so versions keep sharing what did not change.
        return like if type(like) is kind and like is not value and like == value else value
    if like is None:
        return _frozen_copy(value)
    if isinstance(value, dict):
        if type(like) is FrozenDict:
            if value == like:
                return like
            return FrozenDict({k: v if type(v) in LEAF_TYPES else freeze(v, like.get(k)) for k, v in value.items()})
        return FrozenDict({k: v if type(v) in LEAF_TYPES else freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        if type(like) is FrozenList:
            if value == like:
                return like
            # Element by position (a condition updated or appended): the unchanged ones are shared.
            known = len(like)
            return FrozenList([v if type(v) in LEAF_TYPES else freeze(v, like[i] if i < known else None)
                               for i, v in enumerate(value)])
        return FrozenList([v if type(v) in LEAF_TYPES else freeze(v) for v in value])
    return value


def _frozen_copy(value: Any) -> Any:
    """``freeze`` with nothing to share (a new object): the same walk as :func:`json_copy`."""
    kind = type(value)
    if kind is dict:
        return FrozenDict({k: v if type(v) in LEAF_TYPES else _frozen_copy(v) for k, v in value.items()})
    if kind is list:
        return FrozenList([v if type(v) in LEAF_TYPES else _frozen_copy(v) for v in value])
    return freeze(value, _NOTHING)  # frozen already, a subclass, or a leaf


_STR_ONLY = frozenset({str})


class NotJson(Exception):
    """Raised by :func:`frozen_json` for a value that is not plain JSON data."""


def frozen_json(value: Any) -> Any:
    """A read-only deep copy of a request body, checking on the way that it is plain JSON data
    (dicts with str keys, lists, str/int/float/bool/None; exact types): the one walk the embedded
    API server makes over what a client sends. Frozen parts (what the client read and sends back)
    are JSON by construction and shared as they are. Raises :class:`NotJson` otherwise; the
    caller then locates the offending value on a slow path."""
    kind = type(value)
    if kind is dict:
        if not _STR_ONLY.issuperset(map(type, value)):
            raise NotJson
        return FrozenDict({k: v if type(v) in LEAF_TYPES else frozen_json(v) for k, v in value.items()})
    if kind is list:
        return FrozenList([v if type(v) in LEAF_TYPES else frozen_json(v) for v in value])
    if kind is FrozenDict or kind is FrozenList or kind in LEAF_TYPES:
        return value
    raise NotJson


def thaw(value: Any) -> Any:
    """A plain, mutable deep copy of a (possibly frozen) JSON value."""
    return json_copy(value)
