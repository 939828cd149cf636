"""Watches on the wire: the request, streamed events (BOOKMARK, 410 ERROR, malformed lines),
the end of a stream, and ``close`` of a live one."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import pytest

from reconciler.cluster import ApiError, NotFound, Watch, WatchEvent
from reconciler.cluster.kube import KubeCluster

if TYPE_CHECKING:
    from conftest import KmockServer

CMS = "/api/v1/namespaces/ns/configmaps"
WATCH = f"get {CMS}?watch=true"
# Long enough for loopback, short enough that a broken test fails fast.
WAIT = 5.0


def cm(name: str, rv: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "ns", "resourceVersion": rv, "labels": labels}}


def event(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "object": obj}


def bookmark(rv: str) -> dict[str, Any]:
    return event("BOOKMARK", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"resourceVersion": rv}})


def expired(rv: str) -> dict[str, Any]:
    return event("ERROR", {"apiVersion": "v1", "kind": "Status", "metadata": {}, "status": "Failure",
                           "message": f"too old resource version: {rv} (40)", "reason": "Expired", "code": 410})


def drain(watch: Watch, timeout: float = WAIT) -> list[WatchEvent]:
    """Events until the watch ends (bounded by ``timeout`` per event)."""
    events = []
    for _ in range(100):
        got = watch.next(timeout)
        if got is None:
            break
        events.append(got)
    return events


def test_watch_request_and_streamed_events(server: KmockServer, kube: KubeCluster) -> None:
    server.reply(WATCH, event("ADDED", cm("a", "11")), event("MODIFIED", cm("a", "12")), bookmark("13"),
                 event("DELETED", cm("a", "14")))
    with kube.watch("v1", "ConfigMap", "ns", label_selector={"app": "x"}, resource_version="10",
                    allow_bookmarks=True) as watch:
        assert isinstance(watch, Watch)
        events = drain(watch)
        assert watch.closed  # the server ended the stream: callers resume from the last version
    assert [(e.type, e.object["metadata"]["resourceVersion"]) for e in events] == [
        ("ADDED", "11"), ("MODIFIED", "12"), ("BOOKMARK", "13"), ("DELETED", "14")]
    assert events[0].object == cm("a", "11")
    (request,) = server.requests
    assert (request.method, request.url.path) == ("GET", CMS)
    assert dict(request.params) == {"watch": "true", "resourceVersion": "10", "allowWatchBookmarks": "true",
                                    "labelSelector": "app=x", "timeoutSeconds": "300"}


def test_bookmarks_are_dropped_unless_asked_for(server: KmockServer, kube: KubeCluster) -> None:
    server.reply(WATCH, bookmark("5"), event("ADDED", cm("a", "6")))
    with kube.watch("v1", "ConfigMap", "ns", resource_version="4") as watch:
        assert [e.type for e in drain(watch)] == ["ADDED"]
    assert "allowWatchBookmarks" not in server.last().params


def test_a_410_error_event_is_delivered_then_the_watch_ends(server: KmockServer, kube: KubeCluster) -> None:
    server.reply(WATCH, expired("3"), event("ADDED", cm("never", "50")))
    with kube.watch("v1", "ConfigMap", "ns", resource_version="3") as watch:
        first = watch.next(WAIT)
        assert first is not None and first.type == "ERROR"
        assert first.object["kind"] == "Status"
        assert (first.object["code"], first.object["reason"]) == (410, "Expired")
        assert watch.next(WAIT) is None  # nothing after the ERROR
        assert watch.closed


def test_a_410_http_answer_becomes_the_same_error_event(server: KmockServer, kube: KubeCluster) -> None:
    server.reply(WATCH, 410, expired("3")["object"])
    with kube.watch("v1", "ConfigMap", "ns", resource_version="3") as watch:
        assert [(e.type, e.object["code"]) for e in drain(watch)] == [("ERROR", 410)]
        assert watch.closed


def test_other_http_errors_are_raised(server: KmockServer, kube: KubeCluster) -> None:
    server.reply(WATCH, 403, {"kind": "Status", "code": 403, "reason": "Forbidden", "message": "no watch"})
    with pytest.raises(ApiError) as caught:
        kube.watch("v1", "ConfigMap", "ns", resource_version="1")
    assert caught.value.status == 403
    with pytest.raises(NotFound):  # the scaffold knows no pipelineruns: like a missing CRD
        kube.watch("tekton.dev/v1", "PipelineRun", "ns", resource_version="1")


def test_without_a_resource_version_the_watch_starts_now(server: KmockServer, kube: KubeCluster) -> None:
    # A watch without resourceVersion would replay every object as ADDED; the interface promises
    # only what happens from now on, so the current version comes from a one-item list.
    server.reply(f"get {CMS}?limit=1", {"kind": "ConfigMapList", "metadata": {"resourceVersion": "77"},
                                        "items": [cm("a", "70")]})
    server.reply(WATCH, event("ADDED", cm("b", "78")))
    with kube.watch("v1", "ConfigMap", "ns") as watch:
        assert [e.object["metadata"]["name"] for e in drain(watch)] == ["b"]
    listing, watching = server.requests
    assert dict(listing.params) == {"limit": "1"}
    assert watching.params["resourceVersion"] == "77"


def test_all_namespaces_and_cluster_scoped_watches(server: KmockServer, kube: KubeCluster) -> None:
    server.reply("get /apis/batch/v1/jobs?watch=true", event("ADDED", {"metadata": {"name": "j", "namespace": "x"}}))
    with kube.watch("batch/v1", "Job", resource_version="1") as watch:
        (added,) = drain(watch)
    # Objects always carry their type, even if a proxy dropped it from the event.
    assert (added.object["apiVersion"], added.object["kind"]) == ("batch/v1", "Job")
    # (kmock cannot route the /api/v1/namespaces collection itself: a CRD is the cluster-scoped kind here.)
    crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    server.reply(f"get {crds}?watch=true", event("ADDED", {"metadata": {"name": "x.example.com"}}))
    with kube.watch("apiextensions.k8s.io/v1", "CustomResourceDefinition", "ignored", resource_version="1") as watch:
        assert len(drain(watch)) == 1
    assert [r.url.path for r in server.requests] == ["/apis/batch/v1/jobs", crds]


def test_events_split_across_chunks_and_a_last_line_without_newline(server: KmockServer, kube: KubeCluster) -> None:
    server.reply(WATCH, b'{"type": "ADDED", "obj', b'ect": {"metadata": {"name": "a", "resourceVersion": "2"}}}\n',
                 b"\n", b'{"type": "DELETED", "object": {"metadata": {"name": "a", "resourceVersion": "3"}}}')
    with kube.watch("v1", "ConfigMap", "ns", resource_version="1") as watch:
        assert [(e.type, e.object["metadata"]["name"]) for e in drain(watch)] == [("ADDED", "a"), ("DELETED", "a")]


@pytest.mark.parametrize("line", [b"{not json}\n", b'{"type": "RENAMED", "object": {}}\n',
                                  b'{"type": "ADDED", "object": "a string"}\n'])
def test_a_malformed_line_ends_the_watch_with_an_error(server: KmockServer, kube: KubeCluster, line: bytes) -> None:
    server.reply(WATCH, line, event("ADDED", cm("late", "9")))
    with kube.watch("v1", "ConfigMap", "ns", resource_version="1") as watch:
        events = drain(watch)
    assert [(e.type, e.object["code"]) for e in events] == [("ERROR", 500)]
    assert "malformed watch event" in events[0].object["message"]


def test_live_stream_next_timeout_and_feeding(server: KmockServer, kube: KubeCluster) -> None:
    server.reply(WATCH, event("ADDED", cm("a", "2")), ...)
    with kube.watch("v1", "ConfigMap", "ns", resource_version="1") as watch:
        first = watch.next(WAIT)
        assert first is not None and first.object["metadata"]["name"] == "a"
        assert watch.next(0) is None and watch.next(0.05) is None  # nothing yet, stream still open
        assert not watch.closed
        server.feed(event("MODIFIED", cm("a", "3")), ...)
        second = watch.next(WAIT)
        assert second is not None and (second.type, second.object["metadata"]["resourceVersion"]) == ("MODIFIED", "3")
        server.feed(event("DELETED", cm("a", "4")))  # no "...": the server ends the stream after it
        assert [e.type for e in drain(watch)] == ["DELETED"]
        assert watch.closed


def test_close_wakes_a_blocked_next_and_drops_the_connection(server: KmockServer, kube: KubeCluster) -> None:
    server.reply(WATCH, event("ADDED", cm("a", "2")), ...)
    watch = kube.watch("v1", "ConfigMap", "ns", resource_version="1")
    assert watch.next(WAIT) is not None
    results: list[WatchEvent | None] = []
    assert len(server.call(lambda: list(server.handler[...]))) == 1  # one live stream being consumed
    blocked = threading.Thread(target=lambda: results.append(watch.next(None)))  # waits forever...
    blocked.start()
    time.sleep(0.1)
    started = time.monotonic()
    watch.close()  # ...until closed
    blocked.join(WAIT)
    assert not blocked.is_alive() and results == [None]
    assert time.monotonic() - started < 2.0
    assert watch.closed and watch.next(0) is None and watch.next(None) is None
    watch.close()  # idempotent
    # The connection is gone: the server's live stream has no consumer any more.
    assert _eventually(lambda: len(server.call(lambda: list(server.handler[...]))) == 0)


def test_close_discards_queued_events(server: KmockServer, kube: KubeCluster) -> None:
    server.reply(WATCH, event("ADDED", cm("a", "2")), event("ADDED", cm("b", "3")), ...)
    watch = kube.watch("v1", "ConfigMap", "ns", resource_version="1")
    assert _eventually(lambda: watch._queue.qsize() >= 2)
    watch.close()
    assert watch.next(0) is None


def test_the_emulators_own_watch_stream(emulator: KmockServer, emulated: KubeCluster) -> None:
    with emulated.watch("v1", "ConfigMap", "ns", resource_version="1") as watch:
        assert watch.next(0.1) is None
        emulated.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "live", "namespace": "ns"}})
        added = watch.next(WAIT)
        assert added is not None and (added.type, added.object["metadata"]["name"]) == ("ADDED", "live")
        emulated.delete("v1", "ConfigMap", "live", "ns")
        deleted = watch.next(WAIT)
        assert deleted is not None and deleted.type == "DELETED"


def _eventually(check: Any, timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return bool(check())
