"""``KubeCluster``: the ``Cluster`` interface over a real Kubernetes API server.

Built on the official ``kubernetes`` client's ``ApiClient`` (configuration, TLS, authentication)
with REST paths derived from the resource registry, falling back to API discovery for kinds the
registry does not know. Objects are plain dicts in and out, never the client's model classes.

How each verb maps to the API:

* ``get`` / ``list``: GET the object / the collection (``labelSelector``); list items get their
  ``apiVersion`` and ``kind`` back (the API server omits them in lists) and are sorted by
  namespace/name, as the interface promises.
* ``create``: POST; ``update``: PUT (optimistic concurrency through ``metadata.resourceVersion``).
* ``apply``: server-side apply, PATCH ``application/apply-patch+yaml`` with ``fieldManager`` and
  ``force=true``.
* ``patch_status``: PATCH ``application/merge-patch+json`` on the ``/status`` subresource; a
  ``resource_version`` travels in the patch body, which makes the API server check it (409).
* ``delete``: DELETE with a ``DeleteOptions`` body (``propagationPolicy``).
* ``dry_run``: ``dryRun=All`` (for delete also inside ``DeleteOptions``, see ``delete``).
* ``watch``: GET ``watch=true`` streaming, read by a thread (``kube_watch``).
* ``has_kind``: discovery of ``/api/v1`` or ``/apis/<group>/<version>``, cached per group-version.

A namespaced object without a namespace goes to ``default``, as ``MemoryCluster`` does, so code
behaves the same against both.
"""

from __future__ import annotations

import builtins
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import urllib3
from kubernetes import config as kube_config
from kubernetes.client import ApiClient, Configuration

from ..clock import Clock, RealClock
from .base import JsonObject, LabelSelector, ObjectList, Propagation, WatchEvent
from .errors import ApiTimeout, BadRequest, Gone, Invalid, NotFound
from .kube_http import APPLY_PATCH, JSON, MERGE_PATCH, Query, RequestHook, Transport, error_from_response, segment
from .kube_watch import KubeWatch
from .rate_limit import DEFAULT_BURST, TokenBucket
from .resources import ResourceRegistry, ResourceType, default_registry
from .selectors import selector_from
from .validation import ensure_json

__all__ = ["KubeCluster"]

_UNKNOWN_RESOURCE = "the server could not find the requested resource"
_PROPAGATIONS = ("Background", "Foreground", "Orphan")
_DRY_RUN: Query = (("dryRun", "All"),)


@dataclass(frozen=True)
class _Discovered:
    """One group-version's discovery answer: its kinds, or None when the API server does not serve it."""

    kinds: Mapping[str, ResourceType] | None
    fetched_at: float


class KubeCluster:
    """A ``Cluster`` backed by a Kubernetes API server. Thread-safe.

    ``timeout`` is the read timeout and ``connect_timeout`` the connect timeout of every request,
    in seconds. Watches ask the server to end them after ``watch_timeout`` seconds (callers resume
    from the last resourceVersion) and give up reading after ``watch_timeout + timeout`` seconds
    of silence, so a dead connection cannot hang a watch. Discovery answers are cached for
    ``discovery_ttl`` seconds (so installing Tekton is noticed without a restart).
    ``on_request(verb, kind, code)`` is told about every request (``Metrics.api_request`` fits).
    ``qps`` and ``burst`` limit the request rate on the client side (a token bucket, like
    client-go's; ``qps`` 0, the default for the CLI's short-lived clients: no limit; the
    controller passes ``--kube-api-qps``/``--kube-api-burst``).
    """

    def __init__(
        self,
        api_client: ApiClient,
        registry: ResourceRegistry | None = None,
        field_manager: str = "kubernaut",
        *,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        watch_timeout: int = 300,
        discovery_ttl: float = 300.0,
        on_request: RequestHook | None = None,
        clock: Clock | None = None,
        qps: float = 0.0,
        burst: int = DEFAULT_BURST,
        limiter: TokenBucket | None = None,
    ) -> None:
        if not field_manager:
            raise ValueError("field_manager must not be empty")
        if timeout <= 0 or connect_timeout <= 0 or watch_timeout <= 0:
            raise ValueError("timeouts must be positive")
        self.api_client = api_client
        self.registry = registry or default_registry()
        self.field_manager = field_manager
        self._http = Transport(api_client, (connect_timeout, timeout), on_request,
                               limiter if limiter is not None else TokenBucket(qps, burst))
        self._watch_timeout = watch_timeout
        self._watch_read_timeout = (connect_timeout, watch_timeout + timeout)
        self._discovery_ttl = discovery_ttl
        self._clock: Clock = clock or RealClock()
        self._discovery: dict[str, _Discovered] = {}
        self._discovery_lock = threading.Lock()

    # -- construction ------------------------------------------------------------------------------

    @classmethod
    def from_kubeconfig(cls, path: str | None = None, context: str | None = None, **kwargs: Any) -> KubeCluster:
        """From a kubeconfig file (default: ``$KUBECONFIG``, else ``~/.kube/config``) and context
        (default: its current context). The file is never written back (no token persistence)."""
        # Read $KUBECONFIG now: the client library reads it once, when it is first imported.
        config_file = path or os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
        configuration = _configuration()
        kube_config.load_kube_config(config_file=config_file, context=context,
                                     client_configuration=configuration, persist_config=False)
        return cls(ApiClient(configuration), **kwargs)

    @classmethod
    def from_in_cluster(cls, **kwargs: Any) -> KubeCluster:
        """From the pod's service account (token, CA and ``KUBERNETES_SERVICE_HOST``/``PORT``)."""
        configuration = _configuration()
        kube_config.load_incluster_config(client_configuration=configuration)
        return cls(ApiClient(configuration), **kwargs)

    def close(self) -> None:
        """Release the connection pool (this closes the ``ApiClient`` given to the constructor)."""
        self.api_client.close()

    def __enter__(self) -> KubeCluster:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- the Cluster interface -----------------------------------------------------------------------

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> JsonObject:
        rt = self._resource_type(api_version, kind)
        return self._http.json("GET", self._object_path(rt, namespace, name), verb="get", kind=kind)

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: LabelSelector = None,
    ) -> ObjectList:
        rt = self._resource_type(api_version, kind)
        query = _selector_query(label_selector)
        answer = self._http.json("GET", self._collection_path(rt, namespace), verb="list", kind=kind, query=query)
        items = answer.get("items") or []
        for item in items:
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
        items.sort(key=lambda o: (o["metadata"].get("namespace") or "", o["metadata"].get("name") or ""))
        return ObjectList(items, str((answer.get("metadata") or {}).get("resourceVersion") or "0"))

    def create(self, obj: JsonObject, *, dry_run: bool = False) -> JsonObject:
        rt, namespace, _ = self._identify(obj)
        return self._http.json("POST", self._collection_path(rt, self._namespace(rt, namespace)), verb="create",
                               kind=rt.kind, query=_DRY_RUN if dry_run else (), body=obj, content_type=JSON)

    def update(self, obj: JsonObject, *, dry_run: bool = False) -> JsonObject:
        rt, namespace, name = self._identify(obj, require_name=True)
        return self._http.json("PUT", self._object_path(rt, namespace, name), verb="update", kind=rt.kind,
                               query=_DRY_RUN if dry_run else (), body=obj, content_type=JSON)

    def apply(
        self,
        obj: JsonObject,
        *,
        field_manager: str | None = None,
        force: bool = True,
        dry_run: bool = False,
    ) -> JsonObject:
        """Server-side apply; ``field_manager`` defaults to the cluster's ``field_manager``."""
        manager = field_manager or self.field_manager
        rt, namespace, name = self._identify(obj, require_name=True)
        query: builtins.list[tuple[str, str]] = [("fieldManager", manager)]
        if force:
            # Kubernaut owns what it applies: conflicts with other managers are overridden, not
            # reported (a user's kubectl edit of a Job spec is reverted, by design).
            query.append(("force", "true"))
        if dry_run:
            query.extend(_DRY_RUN)
        return self._http.json("PATCH", self._object_path(rt, namespace, name), verb="apply", kind=rt.kind,
                               query=query, body=obj, content_type=APPLY_PATCH)

    def patch_status(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None,
        status: JsonObject,
        *,
        resource_version: str | None = None,
    ) -> JsonObject:
        rt = self._resource_type(api_version, kind)
        if not isinstance(status, dict):
            raise BadRequest("a status patch must be a JSON object")
        ensure_json(status, "status")
        patch: JsonObject = {"status": status}
        if resource_version:
            # A resourceVersion inside a merge patch is a precondition: the server answers 409
            # when the object has moved on, exactly like an update with a stale version.
            patch["metadata"] = {"resourceVersion": resource_version}
        return self._http.json("PATCH", self._object_path(rt, namespace, name) + "/status", verb="patch_status",
                               kind=kind, body=patch, content_type=MERGE_PATCH)

    def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        *,
        propagation: Propagation = "Background",
        dry_run: bool = False,
    ) -> None:
        if propagation not in _PROPAGATIONS:
            raise BadRequest(f"propagationPolicy must be one of {', '.join(_PROPAGATIONS)}")
        rt = self._resource_type(api_version, kind)
        options: JsonObject = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": propagation}
        if dry_run:
            # The API server reads DeleteOptions from the body when there is one and ignores the
            # query then; dryRun goes into both so neither reading can turn it into a real delete.
            options["dryRun"] = ["All"]
        self._http.json("DELETE", self._object_path(rt, namespace, name), verb="delete", kind=kind,
                        query=_DRY_RUN if dry_run else (), body=options, content_type=JSON)

    def watch(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: LabelSelector = None,
        resource_version: str | None = None,
        allow_bookmarks: bool = False,
    ) -> KubeWatch:
        """See ``Cluster.watch``. An expired resourceVersion yields one ERROR event (410), whether
        the server says so in the stream or as the HTTP answer; then the watch ends."""
        rt = self._resource_type(api_version, kind)
        selector = _selector_query(label_selector)
        path = self._collection_path(rt, namespace)
        if resource_version is None:
            # The API treats a watch without resourceVersion like "0": synthetic ADDED events for
            # every existing object first. The interface promises events from *now*, so start at
            # the collection's current resourceVersion, which a one-item list returns.
            current = self._http.json("GET", path, verb="list", kind=kind, query=(("limit", "1"),))
            resource_version = str((current.get("metadata") or {}).get("resourceVersion") or "0")
        query: builtins.list[tuple[str, str]] = [("watch", "true"), ("resourceVersion", resource_version)]
        if allow_bookmarks:
            query.append(("allowWatchBookmarks", "true"))
        query.extend(selector)
        query.append(("timeoutSeconds", str(self._watch_timeout)))
        response = self._http.open("GET", path, verb="watch", kind=kind, query=query,
                                   timeout=self._watch_read_timeout)
        if 200 <= response.status <= 299:
            return KubeWatch(api_version, kind, allow_bookmarks, response)
        try:
            error = error_from_response(response.status, response.headers, response.data, response.reason)
        finally:
            response.release_conn()
        if isinstance(error, Gone):
            return KubeWatch(api_version, kind, allow_bookmarks, initial=(WatchEvent("ERROR", error.to_status()),))
        raise error

    def read_pod_log(self, namespace: str, pod: str, container: str | None = None) -> str:
        """``PodLogs``: GET ``pods/<pod>/log`` (text, not JSON)."""
        response = self._open_log(namespace, pod, container, follow=False)
        try:
            data = response.data
        finally:
            response.release_conn()
        return data.decode("utf-8", errors="replace")

    def follow_pod_log(self, namespace: str, pod: str, container: str | None = None) -> Iterator[str]:
        """``kubectl logs -f``: the log so far, then what the container writes, until it exits."""
        response = self._open_log(namespace, pod, container, follow=True)
        try:
            for chunk in response.stream(4096, decode_content=True):
                yield chunk.decode("utf-8", errors="replace")
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ApiTimeout(f"following the log of pod {namespace}/{pod}: {exc}") from exc
        finally:
            response.release_conn()

    def _open_log(self, namespace: str, pod: str, container: str | None, *, follow: bool) -> Any:
        query: builtins.list[tuple[str, str]] = [("container", container)] if container else []
        if follow:
            query.append(("follow", "true"))
        path = f"/api/v1/namespaces/{segment(namespace)}/pods/{segment(pod)}/log"
        # A followed log streams for as long as the container runs, silent or not: no read
        # timeout then (kubectl logs -f waits the same way).
        response = self._http.open("GET", path, verb="log", kind="Pod", query=query, accept="*/*",
                                   timeout=(self._watch_read_timeout[0], None) if follow else None)
        if 200 <= response.status <= 299:
            return response
        try:
            raise error_from_response(response.status, response.headers, response.data, response.reason)
        finally:
            response.release_conn()

    def has_kind(self, api_version: str, kind: str) -> bool:
        kinds = self._discover(api_version)
        return kinds is not None and kind in kinds

    def invalidate_discovery(self) -> None:
        """Forget cached discovery answers (the next ``has_kind`` asks the server again)."""
        with self._discovery_lock:
            self._discovery.clear()

    # -- resources and paths ---------------------------------------------------------------------------

    def _resource_type(self, api_version: str, kind: str) -> ResourceType:
        rt = self.registry.find(api_version, kind)
        if rt is not None:
            return rt
        kinds = self._discover(api_version)
        if kinds is None or kind not in kinds:
            raise NotFound(_UNKNOWN_RESOURCE)
        return kinds[kind]

    def _discover(self, api_version: str) -> Mapping[str, ResourceType] | None:
        with self._discovery_lock:
            cached = self._discovery.get(api_version)
        now = self._clock.monotonic()
        if cached is not None and now - cached.fetched_at < self._discovery_ttl:
            return cached.kinds
        path = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        try:
            answer = self._http.json("GET", path, verb="discovery", kind="")
        except NotFound:
            kinds = None
        else:
            kinds = _kinds_of(api_version, answer)
        with self._discovery_lock:
            self._discovery[api_version] = _Discovered(kinds, now)
        return kinds

    @staticmethod
    def _namespace(rt: ResourceType, namespace: str | None) -> str | None:
        if not rt.namespaced:
            return None
        return namespace or "default"

    def _collection_path(self, rt: ResourceType, namespace: str | None) -> str:
        """``namespace`` None on a namespaced kind: the all-namespaces collection (list, watch)."""
        base = "/api/v1" if rt.api_version == "v1" else f"/apis/{rt.api_version}"
        if rt.namespaced and namespace is not None:
            base += f"/namespaces/{segment(namespace)}"
        return f"{base}/{rt.plural}"

    def _object_path(self, rt: ResourceType, namespace: str | None, name: str) -> str:
        if not name:
            raise Invalid(f'{rt.group_kind} "" is invalid: metadata.name: Required value: name is required')
        return f"{self._collection_path(rt, self._namespace(rt, namespace))}/{segment(name)}"

    def _identify(self, obj: Any, require_name: bool = False) -> tuple[ResourceType, str | None, str]:
        """The resource type, namespace and name of a request body; 400 when it is no object."""
        if not isinstance(obj, dict) or not isinstance(obj.get("metadata", {}), dict):
            raise BadRequest("the request body must be a JSON object with a metadata object")
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if not isinstance(api_version, str) or not isinstance(kind, str) or not api_version or not kind:
            raise BadRequest("apiVersion and kind are required")
        ensure_json(obj)
        rt = self._resource_type(api_version, kind)
        meta = obj.get("metadata") or {}
        name = meta.get("name") or ""
        if require_name and not name:
            raise Invalid(f'{rt.group_kind} "" is invalid: metadata.name: Required value: name is required')
        return rt, meta.get("namespace"), name


def _configuration() -> Configuration:
    configuration = Configuration()
    # No retries inside urllib3: the controller retries with its own backoff (errors.is_transient),
    # and hidden retries would multiply the configured timeouts and re-send writes that may
    # already have been carried out.
    configuration.retries = False
    return configuration


def _selector_query(label_selector: LabelSelector) -> Query:
    # Parsing first rejects what the API server would reject (same BadRequest as MemoryCluster)
    # and sends the canonical form.
    text = str(selector_from(label_selector))
    return (("labelSelector", text),) if text else ()


def _kinds_of(api_version: str, answer: JsonObject) -> dict[str, ResourceType]:
    """Resource types from an ``APIResourceList``; subresources only mark ``status`` support."""
    resources = [r for r in answer.get("resources") or [] if isinstance(r, dict) and isinstance(r.get("name"), str)]
    subresources = {r["name"] for r in resources if "/" in r["name"]}
    kinds: dict[str, ResourceType] = {}
    for r in resources:
        plural = r["name"]
        if "/" in plural or not isinstance(r.get("kind"), str):
            continue
        kinds[r["kind"]] = ResourceType(
            api_version, r["kind"], plural,
            namespaced=r.get("namespaced") is not False,
            status_subresource=f"{plural}/status" in subresources,
        )
    return kinds
