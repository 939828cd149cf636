"""The embedded API server's storage: objects by key, one global revision counter, indexes by
uid and by owner uid (garbage collection asks "who depends on X" on every delete).

Like etcd, every committed write gets the next revision and becomes one watch change. Stored
objects are read-only snapshots (``snapshots.freeze``): writers build a new dict, the change
history and every watcher share the stored one, and a new version shares the parts it did not
change with the old one (only what a write changed is copied).
"""

from __future__ import annotations

from collections.abc import Iterator

from .base import JsonObject
from .memory_watch import Change, TypeKey, WatchHub
from .snapshots import freeze, json_copy

__all__ = ["Key", "Store"]

Key = tuple[str, str, str, str]  # (apiVersion, kind, namespace or "", name)


def key_of(obj: JsonObject) -> Key:
    meta = obj["metadata"]
    return (obj["apiVersion"], obj["kind"], meta.get("namespace") or "", meta["name"])


class Store:
    def __init__(self, hub: WatchHub) -> None:
        self.hub = hub
        self.revision = 0
        self._objects: dict[Key, JsonObject] = {}
        self._by_uid: dict[str, Key] = {}
        self._by_owner: dict[str, set[Key]] = {}

    def get(self, key: Key) -> JsonObject | None:
        return self._objects.get(key)

    def by_uid(self, uid: str) -> JsonObject | None:
        key = self._by_uid.get(uid)
        return self._objects.get(key) if key is not None else None

    def put(self, obj: JsonObject) -> JsonObject:
        """Commit ``obj`` (created or replaced) at the next revision; returns the stored,
        read-only version (``json_copy`` it before handing it out)."""
        self.revision += 1
        obj["metadata"]["resourceVersion"] = str(self.revision)
        key = key_of(obj)
        old = self._objects.get(key)
        obj = freeze(obj, old)
        # Most writes (status, labels) leave the owner references as they were: the same frozen
        # list, shared with the old version, so the owner index needs no work.
        owners_kept = old is not None and old["metadata"].get("ownerReferences") is obj["metadata"].get(
            "ownerReferences")
        if old is not None and not owners_kept:
            self._unindex_owners(key, old)
        self._objects[key] = obj
        self._by_uid[obj["metadata"]["uid"]] = key
        if not owners_kept:
            self._index_owners(key, obj)
        self.hub.publish(Change(self.revision, "MODIFIED" if old else "ADDED", key[:2], obj, old))
        return obj

    def remove(self, key: Key, final: JsonObject | None = None) -> JsonObject:
        """Delete at the next revision; the DELETED change carries ``final`` (default: as stored)."""
        stored = self._objects.pop(key)
        self._unindex_owners(key, stored)
        obj = json_copy(final if final is not None else stored)
        self.revision += 1
        obj["metadata"]["resourceVersion"] = str(self.revision)
        self._by_uid.pop(stored["metadata"]["uid"], None)
        self.hub.publish(Change(self.revision, "DELETED", key[:2], obj))
        return obj

    def dependents(self, uid: str) -> list[Key]:
        """Keys of objects with an ownerReference to ``uid``, in key order."""
        return sorted(self._by_owner.get(uid, ()))

    @staticmethod
    def _owner_uids(obj: JsonObject) -> set[str]:
        return {str(ref["uid"]) for ref in obj["metadata"].get("ownerReferences") or [] if ref.get("uid")}

    def _index_owners(self, key: Key, obj: JsonObject) -> None:
        for owner in self._owner_uids(obj):
            self._by_owner.setdefault(owner, set()).add(key)

    def _unindex_owners(self, key: Key, obj: JsonObject) -> None:
        for owner in self._owner_uids(obj):
            keys = self._by_owner.get(owner)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_owner[owner]

    def items(self, type_key: TypeKey | None = None, namespace: str | None = None) -> Iterator[JsonObject]:
        """Stored objects in key order (apiVersion, kind, namespace, name), as a list answer is."""
        for key in sorted(self._objects):
            if (type_key is None or key[:2] == type_key) and (namespace is None or key[2] == namespace):
                yield self._objects[key]
