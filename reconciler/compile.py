"""A WorkflowExecution object (as read from the cluster) -> IR, or located diagnostics.

The controller compiles exactly what ``kubernaut validate`` would, under the file name
``wfe/<namespace>/<name>``. The object is already data, so it is checked as it is — no YAML text
written and parsed again (issue 13). Only when that finds an error is the object written as YAML
text and compiled from it, so that a diagnostic in ``status.diagnostics`` reads
like the CLI's (``wfe/prod/fix:12:15: error[KN030]: ...``) and points into the text ``kubectl get
-o yaml`` shows for the spec.

Compiling costs milliseconds and every reconcile of a workflow needs the IR, so
:class:`WorkflowCompiler` caches the result per ``(uid, generation)``: the spec cannot change
without the generation changing; so is the spec's digest (:meth:`WorkflowCompiler.spec_digest`),
which the workflow controller compares with ``status.specHash`` on every reconcile. The
ActionExecution controller never compiles: each step's plan is in its ActionExecution
(``spec.jobTemplate``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from compiler import ir
from compiler.contracts import Catalog
from compiler.diagnostics import Diagnostic, has_errors, render_all, sort_key
from compiler.frontend import check_document, compile_source
from compiler.source import SourceDocument
from compiler.yamlout import dump_document

from .cluster.snapshots import json_copy
from .engines.registry import known_engines
from .status import spec_digest

__all__ = ["Compiled", "WorkflowCompiler", "compile_object", "manifest_text", "source_name"]

# Metadata a user writes; server-set fields (managedFields above all) only add noise to the text.
_USER_METADATA = ("name", "namespace", "labels", "annotations")
_DEFAULT_CACHE_SIZE = 4096


@dataclass(frozen=True)
class Compiled:
    """What the front end made of one WorkflowExecution object."""

    workflow: ir.Workflow | None
    diagnostics: tuple[Diagnostic, ...] = ()
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.workflow is not None and not has_errors(self.diagnostics)

    def headlines(self) -> list[str]:
        """One line per diagnostic (``file:line:col: error[KNxxx]: message``), for ``status``."""
        return [d.headline() for d in self.diagnostics]

    def render(self) -> str:
        """Compiler-style output with source excerpts (logs, ``kubernaut run``)."""
        return render_all(self.diagnostics, self.sources)


def source_name(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return f"wfe/{meta.get('namespace') or 'default'}/{meta.get('name') or '<unnamed>'}"


def manifest_text(obj: Mapping[str, Any]) -> str:
    """The object as the user wrote it: identity, user metadata and spec; no status."""
    return dump_document(_user_fields(obj))


def _user_document(obj: Mapping[str, Any]) -> dict[str, Any]:
    """What :func:`manifest_text` writes, as data (a copy: the front end may keep parts of it)."""
    copied: dict[str, Any] = json_copy(_user_fields(obj))
    return copied


def _user_fields(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Identity, user metadata and spec of ``obj`` (shared, not copied); no status."""
    meta = obj.get("metadata") or {}
    doc: dict[str, Any] = {
        "apiVersion": obj.get("apiVersion"),
        "kind": obj.get("kind"),
        "metadata": {k: meta[k] for k in _USER_METADATA if meta.get(k)},
    }
    if "spec" in obj:
        doc["spec"] = obj["spec"]
    return doc


def compile_object(obj: Mapping[str, Any], catalog: Catalog) -> Compiled:
    """Compile one WorkflowExecution object. Never raises on bad input. ``spec.engine`` must be
    ``auto`` or a registered engine: the controller refuses any other name as ``validate`` does."""
    name = source_name(obj)
    engines = known_engines().names
    try:
        unit = check_document(SourceDocument(name, "", 0, _user_document(obj)), catalog, engines)
    except (TypeError, ValueError):
        unit = None  # not plain JSON data: the text path reports it, located
    if unit is not None and unit.workflow is not None and not has_errors(unit.diagnostics):
        # Its warnings (no contract known...) carry no line: the controller reports none of a
        # workflow that compiles; `kubernaut validate` shows them located.
        return Compiled(unit.workflow, tuple(sorted(unit.diagnostics, key=sort_key)))
    # An error to report: compile the text a user sees, for located diagnostics.
    result = compile_source(name, manifest_text(obj).encode("utf-8"), catalog, engines)
    workflows = result.workflows
    workflow = workflows[0] if result.ok and len(workflows) == 1 else None
    return Compiled(workflow, tuple(result.diagnostics), dict(result.sources))


class WorkflowCompiler:
    """``compile_object`` with a bounded, thread-safe cache keyed by ``(uid, generation)``.

    One instance is shared by the controllers of a process (the WorkflowExecution controller
    and the ActionExecution controller need the same IR).
    """

    def __init__(self, catalog: Catalog, max_entries: int = _DEFAULT_CACHE_SIZE) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.catalog = catalog
        self.max_entries = max_entries
        self._cache: OrderedDict[tuple[str, int], Compiled] = OrderedDict()
        self._digests: OrderedDict[tuple[str, int], str] = OrderedDict()
        self._lock = threading.Lock()
        self.misses = 0

    def spec_digest(self, obj: Mapping[str, Any]) -> str:
        """:func:`reconciler.status.spec_digest` of ``obj``'s spec, cached like the IR: the
        workflow controller compares it with ``status.specHash`` on every reconcile, and the spec
        cannot change without the generation changing (a JSON dump and a hash per reconcile)."""
        meta = obj.get("metadata") or {}
        uid, generation = meta.get("uid"), meta.get("generation")
        if not uid or generation is None:
            return spec_digest(obj.get("spec"))
        key = (str(uid), int(generation))
        with self._lock:
            digest = self._digests.get(key)
            if digest is not None:
                self._digests.move_to_end(key)
                return digest
        digest = spec_digest(obj.get("spec"))
        with self._lock:
            self._digests[key] = digest
            while len(self._digests) > self.max_entries:
                self._digests.popitem(last=False)
        return digest

    def cached(self, uid: str, generation: int) -> Compiled | None:
        """The result for that version of a workflow if it was compiled already."""
        with self._lock:
            return self._cache.get((uid, generation))

    def compile(self, obj: Mapping[str, Any]) -> Compiled:
        meta = obj.get("metadata") or {}
        uid, generation = meta.get("uid"), meta.get("generation")
        if not uid or generation is None:
            return compile_object(obj, self.catalog)  # not from a server: nothing to key on
        key = (str(uid), int(generation))
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        compiled = compile_object(obj, self.catalog)  # outside the lock: it takes milliseconds
        with self._lock:
            self.misses += 1
            self._cache[key] = compiled
            self._cache.move_to_end(key)
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)
        return compiled
