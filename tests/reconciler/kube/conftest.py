"""A kmock API server on 127.0.0.1 for wire-level tests of ``KubeCluster``.

``KubeCluster`` is synchronous (urllib3), so kmock cannot run on the test's own event loop: a
blocking request would stall the very loop that must answer it. :class:`KmockServer` therefore
runs kmock's ``KubernetesEmulator`` on a private event loop in a thread; tests script reactions
and read the recorded requests through :meth:`KmockServer.call`, which runs code on that loop
(kmock's DSL and live streams are not thread-safe).

kmock's emulator stores objects for POST / GET / LIST / PATCH / DELETE and serves discovery and
watch streams of ADDED events. Where it falls short of a real API server (no resourceVersion, no
label selectors, no PUT, no server-side apply semantics, no 409 reasons, no BOOKMARK/410) tests
script the exact answers and assert on what ``KubeCluster`` sent.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

import kmock
import pytest
from kubernetes.client import ApiClient, Configuration

from reconciler.cluster import ApiError, NotFound, ResourceRegistry, TooManyRequests, Watch, default_registry
from reconciler.cluster.kube import KubeCluster
from reconciler.cluster.memory import MemoryCluster

T = TypeVar("T")

# Seconds to wait for the server's loop to answer a call or to shut down.
_LOOP_TIMEOUT = 10.0


class KmockServer:
    """kmock served on an ephemeral loopback port from its own thread: the stateful
    ``KubernetesEmulator``, or with ``emulate=False`` the stateless ``KubernetesScaffold``
    (discovery and 404s only; everything else scripted). Scripted tests need the scaffold: the
    emulator acts on writes before any scripted reaction (a PATCH of an object it does not
    store is a 404 whatever the script says)."""

    def __init__(self, emulate: bool = False) -> None:
        self._emulate = emulate
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="kmock-loop", daemon=True)
        self.handler: kmock.KubernetesScaffold
        self.server: kmock.Server

    def start(self) -> None:
        self._thread.start()

        async def enter() -> None:
            self.handler = kmock.KubernetesEmulator() if self._emulate else kmock.KubernetesScaffold()
            await self.handler.__aenter__()
            self.server = kmock.Server(self.handler, host="127.0.0.1")
            await self.server.__aenter__()

        asyncio.run_coroutine_threadsafe(enter(), self._loop).result(_LOOP_TIMEOUT)

    def stop(self) -> None:
        async def leave() -> None:
            await self.server.__aexit__(None, None, None)
            await self.handler.__aexit__(None, None, None)

        try:
            asyncio.run_coroutine_threadsafe(leave(), self._loop).result(_LOOP_TIMEOUT)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(_LOOP_TIMEOUT)
            self._loop.close()

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the server's loop (for kmock's DSL) and return its result."""

        async def run() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(_LOOP_TIMEOUT)

    def reply(self, criteria: Any, *items: Any) -> None:
        """Answer requests matching ``criteria`` with ``items`` chained by ``<<`` (a status, a
        headers dict, a body; several bodies make a stream). Earlier reactions win."""

        def install() -> None:
            reaction = self.handler[criteria] << items[0]
            for item in items[1:]:
                reaction = reaction << item

        self.call(install)

    def feed(self, *items: Any) -> None:
        """Feed items to every live stream (a reaction that ended with ``...``); end with ``...``
        to keep the streams open."""

        def feed() -> None:
            stream = self.handler[...]
            for item in items:
                stream = stream << item

        self.call(feed)

    @property
    def requests(self) -> list[kmock.Request]:
        """Every request received so far, oldest first."""
        return self.call(lambda: list(self.handler))

    def last(self) -> kmock.Request:
        return self.requests[-1]


def status(code: int, reason: str, message: str = "", **details: Any) -> dict[str, Any]:
    """A ``meta/v1 Status`` body as the API server sends with errors."""
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "Status", "metadata": {}, "status": "Failure",
                            "message": message or f"{reason} ({code})", "reason": reason, "code": code}
    if details:
        body["details"] = details
    return body


def api_client_for(url: str) -> ApiClient:
    configuration = Configuration(host=url)
    configuration.retries = False  # as KubeCluster.from_kubeconfig configures it
    return ApiClient(configuration)


def _serve(emulate: bool) -> Iterator[KmockServer]:
    srv = KmockServer(emulate)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def _cluster(srv: KmockServer) -> Iterator[KubeCluster]:
    cluster = KubeCluster(api_client_for(srv.url), timeout=5.0, connect_timeout=2.0)
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def server() -> Iterator[KmockServer]:
    """A scripted server: answers only what the test declares (and discovery, 404 otherwise)."""
    yield from _serve(emulate=False)


@pytest.fixture
def emulator() -> Iterator[KmockServer]:
    """kmock's stateful Kubernetes emulator."""
    yield from _serve(emulate=True)


@pytest.fixture
def kube(server: KmockServer) -> Iterator[KubeCluster]:
    yield from _cluster(server)


@pytest.fixture
def emulated(emulator: KmockServer) -> Iterator[KubeCluster]:
    """A KubeCluster talking to the emulator."""
    yield from _cluster(emulator)


KubeFactory = Callable[..., KubeCluster]


@pytest.fixture
def make_kube() -> Iterator[KubeFactory]:
    """``make_kube(server_or_url, **KubeCluster options)``: more clusters, closed after the test."""
    made: list[KubeCluster] = []

    def make(target: KmockServer | str, **options: Any) -> KubeCluster:
        url = target if isinstance(target, str) else target.url
        options.setdefault("timeout", 5.0)
        options.setdefault("connect_timeout", 2.0)
        made.append(KubeCluster(api_client_for(url), **options))
        return made[-1]

    yield make
    for cluster in made:
        cluster.close()


class MemoryApi:
    """A ``MemoryCluster`` behind kmock: the API's REST mapping in reverse (path, query,
    content type -> Cluster call -> JSON or Status answer), plus discovery from its registry.

    kmock's emulator lacks resourceVersions, PUT, server-side apply and the status subresource;
    this gives ``KubeCluster`` an HTTP peer with honest semantics, so behaviour promised by the
    ``Cluster`` interface can be checked end to end over the wire. (kmock cannot parse the
    ``/api/v1/namespaces`` collection path, so Namespaces can be read but not listed or created.)
    """

    def __init__(self, memory: MemoryCluster, registry: ResourceRegistry | None = None) -> None:
        self.memory = memory
        self.registry = registry or default_registry()  # MemoryCluster's own default

    async def __call__(self, request: kmock.Request) -> kmock.Response:
        try:
            return await self._route(request)
        except ApiError as exc:
            headers = {"Retry-After": str(int(exc.retry_after))} if isinstance(exc, TooManyRequests) else {}
            return kmock.Response(status=exc.status, headers=headers, payload=exc.to_status())

    async def _route(self, request: kmock.Request) -> kmock.Response:
        api_version, namespace, plural, name, subresource = _parse_path(request.url.path)
        method, params, data = request.method.value, request.params, request.data
        if plural is None:
            return self._discovery(api_version)
        rt = next((t for t in self.registry if t.api_version == api_version and t.plural == plural
                   and self.memory.has_kind(t.api_version, t.kind)), None)
        if rt is None:
            raise NotFound("the server could not find the requested resource")
        dry_run = params.get("dryRun") == "All"
        selector = params.get("labelSelector") or None
        m = self.memory
        match method, name, subresource:
            case "GET", None, None if params.get("watch") in ("true", "1"):
                watch = m.watch(api_version, rt.kind, namespace, selector, params.get("resourceVersion"),
                                params.get("allowWatchBookmarks") == "true")
                return kmock.Response(status=200, payload=_stream(watch))
            case "GET", None, None:
                listed = m.list(api_version, rt.kind, namespace, selector)
                return _ok({"apiVersion": api_version, "kind": f"{rt.kind}List",
                            "metadata": {"resourceVersion": listed.resource_version},
                            "items": [_untyped(o) for o in listed.items]})
            case "GET", str(), None:
                return _ok(m.get(api_version, rt.kind, name, namespace))
            case "POST", None, None:
                return _ok(m.create(data, dry_run=dry_run), 201)
            case "PUT", str(), None:
                return _ok(m.update(data, dry_run=dry_run))
            case "PATCH", str(), None if request.headers.get("Content-Type") == "application/apply-patch+yaml":
                return _ok(m.apply(data, field_manager=params.get("fieldManager", ""),
                                   force=params.get("force") == "true", dry_run=dry_run))
            case "PATCH", str(), "status" if request.headers.get("Content-Type") == "application/merge-patch+json":
                rv = (data.get("metadata") or {}).get("resourceVersion")
                return _ok(m.patch_status(api_version, rt.kind, name, namespace, data.get("status") or {},
                                          resource_version=rv))
            case "DELETE", str(), None:
                options = data or {}
                m.delete(api_version, rt.kind, name, namespace,
                         propagation=options.get("propagationPolicy", "Background"),
                         dry_run="All" in (options.get("dryRun") or []))
                return _ok({"apiVersion": "v1", "kind": "Status", "status": "Success"})
        raise AssertionError(f"MemoryApi does not serve {method} {request.url}")

    def _discovery(self, api_version: str) -> kmock.Response:
        types = [t for t in self.registry
                 if t.api_version == api_version and self.memory.has_kind(t.api_version, t.kind)]
        if not types:
            raise NotFound("the server could not find the requested resource")
        resources: list[dict[str, Any]] = []
        for t in types:
            resources.append({"name": t.plural, "kind": t.kind, "namespaced": t.namespaced})
            if t.status_subresource:
                resources.append({"name": f"{t.plural}/status", "kind": t.kind, "namespaced": t.namespaced})
        return _ok({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": api_version,
                    "resources": resources})


def _ok(payload: dict[str, Any], code: int = 200) -> kmock.Response:
    return kmock.Response(status=code, payload=payload)


def _untyped(obj: dict[str, Any]) -> dict[str, Any]:
    # A real API server leaves apiVersion and kind out of list items.
    return {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}


def _parse_path(path: str) -> tuple[str, str | None, str | None, str | None, str | None]:
    """apiVersion, namespace, plural, name and subresource of an API path."""
    parts = path.strip("/").split("/")
    if parts[0] == "api":
        api_version, rest = parts[1], parts[2:]
    else:
        api_version, rest = f"{parts[1]}/{parts[2]}", parts[3:]
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] not in ("status", "finalize"):
        namespace, rest = rest[1], rest[2:]
    rest += [None] * (3 - len(rest))  # type: ignore[list-item]
    return api_version, namespace, rest[0], rest[1], rest[2]


async def _stream(watch: Watch) -> AsyncIterator[Any]:
    # An empty first chunk sends the headers at once, as the API server does for a watch.
    yield b""
    try:
        while True:
            event = await asyncio.to_thread(watch.next, 0.1)
            if event is None:
                if getattr(watch, "closed", False):
                    return
                continue
            yield {"type": event.type, "object": event.object}
            if event.type == "ERROR":
                return
    finally:
        watch.close()


@pytest.fixture
def memory() -> MemoryCluster:
    return MemoryCluster(seed=5)


@pytest.fixture
def memory_api(server: KmockServer, memory: MemoryCluster) -> KmockServer:
    """The scripted server answering every API path from ``memory``."""
    server.reply(re.compile(r"/apis?/.*"), MemoryApi(memory))
    return server
