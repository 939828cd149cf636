"""HTTP answers and client failures mapped to ``reconciler.cluster.errors``."""

from __future__ import annotations

import asyncio
import email.utils
import socket
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from reconciler.cluster import (
    ApiError,
    ApiTimeout,
    BadRequest,
    Conflict,
    Gone,
    Invalid,
    NotFound,
    ServerError,
    TooManyRequests,
    is_transient,
)
from reconciler.cluster.kube import KubeCluster
from reconciler.cluster.kube_http import error_from_response, parse_retry_after

if TYPE_CHECKING:
    from conftest import KmockServer, KubeFactory

CM = "/api/v1/namespaces/ns/configmaps/cm"


def status(code: int, reason: str, message: str = "it failed", **details: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "Status", "metadata": {}, "status": "Failure",
                            "message": message, "reason": reason, "code": code}
    if details:
        body["details"] = details
    return body


@pytest.mark.parametrize(("code", "reason", "expected", "transient"), [
    (400, "BadRequest", BadRequest, False),
    (404, "NotFound", NotFound, False),
    (409, "AlreadyExists", Conflict, False),
    (409, "Conflict", Conflict, True),
    (410, "Expired", Gone, True),
    (422, "Invalid", Invalid, False),
    (429, "TooManyRequests", TooManyRequests, True),
    (500, "InternalError", ServerError, True),
    (502, "BadGateway", ServerError, True),
    (503, "ServiceUnavailable", ServerError, True),
    (504, "Timeout", ApiTimeout, True),
])
def test_status_codes_map_to_error_classes(server: KmockServer, kube: KubeCluster, code: int, reason: str,
                                           expected: type[ApiError], transient: bool) -> None:
    server.reply(f"get {CM}", code, status(code, reason, f"server says {code}"))
    with pytest.raises(expected) as caught:
        kube.get("v1", "ConfigMap", "cm", "ns")
    error = caught.value
    assert type(error) is expected
    assert error.status == code and error.message == f"server says {code}"
    assert is_transient(error) is transient
    if code == 409:
        assert isinstance(error, Conflict) and error.already_exists is (reason == "AlreadyExists")


def test_409_on_create_and_update(server: KmockServer, kube: KubeCluster) -> None:
    server.reply("post /api/v1/namespaces/ns/configmaps", 409,
                 status(409, "AlreadyExists", 'configmaps "cm" already exists'))
    server.reply(f"put {CM}", 409, status(409, "Conflict", "the object has been modified"))
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "ns",
                                                                 "resourceVersion": "1"}}
    with pytest.raises(Conflict) as exists:
        kube.create(obj)
    assert exists.value.already_exists and exists.value.reason == "AlreadyExists"
    with pytest.raises(Conflict) as stale:
        kube.update(obj)
    assert not stale.value.already_exists and stale.value.reason == "Conflict"


def test_emulator_conflict_without_a_kubernetes_reason_is_a_plain_conflict(emulated: KubeCluster) -> None:
    # kmock's emulator says "Object Already Exists"; only the exact reason AlreadyExists counts.
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "ns"}}
    emulated.create(obj)
    with pytest.raises(Conflict) as caught:
        emulated.create(obj)
    assert caught.value.status == 409 and not caught.value.already_exists


def test_429_retry_after_header_in_seconds(server: KmockServer, kube: KubeCluster) -> None:
    server.reply(f"get {CM}", 429, {"Retry-After": "7"}, status(429, "TooManyRequests"))
    with pytest.raises(TooManyRequests) as caught:
        kube.get("v1", "ConfigMap", "cm", "ns")
    assert caught.value.retry_after == 7.0


def test_429_retry_after_from_status_details_when_no_header(server: KmockServer, kube: KubeCluster) -> None:
    server.reply(f"get {CM}", 429, status(429, "TooManyRequests", retryAfterSeconds=3))
    with pytest.raises(TooManyRequests) as caught:
        kube.get("v1", "ConfigMap", "cm", "ns")
    assert caught.value.retry_after == 3.0


def test_429_without_a_hint_waits_one_second() -> None:
    error = error_from_response(429, {}, b"", "Too Many Requests")
    assert isinstance(error, TooManyRequests) and error.retry_after == 1.0


def test_retry_after_parsing() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    date = email.utils.format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(date, now=now.timestamp) == pytest.approx(30.0)
    assert parse_retry_after("-5") == 0.0
    assert parse_retry_after("86400") == 600.0  # capped
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_non_status_bodies_still_map_by_code(server: KmockServer, kube: KubeCluster) -> None:
    # What a load balancer in front of the API server sends.
    server.reply(f"get {CM}", 502, b"<html><body>Bad Gateway</body></html>")
    with pytest.raises(ServerError) as caught:
        kube.get("v1", "ConfigMap", "cm", "ns")
    assert caught.value.status == 502 and "Bad Gateway" in caught.value.message


def test_other_codes_keep_their_status_and_reason(server: KmockServer, kube: KubeCluster) -> None:
    server.reply(f"get {CM}", 403, status(403, "Forbidden", 'configmaps "cm" is forbidden'))
    with pytest.raises(ApiError) as caught:
        kube.get("v1", "ConfigMap", "cm", "ns")
    assert (caught.value.status, caught.value.reason) == (403, "Forbidden")
    assert not is_transient(caught.value)


def test_a_2xx_answer_that_is_not_json_is_a_server_error(server: KmockServer, kube: KubeCluster) -> None:
    server.reply(f"get {CM}", b"not json")
    with pytest.raises(ServerError, match="not JSON"):
        kube.get("v1", "ConfigMap", "cm", "ns")


def test_unknown_resource_is_not_found(server: KmockServer, kube: KubeCluster) -> None:
    # A registered kind whose CRD is not installed: the API server's own 404 for the path.
    with pytest.raises(NotFound):
        kube.get("tekton.dev/v1", "PipelineRun", "pr", "ns")
    # A kind neither in the registry nor in discovery: no request for the object at all.
    with pytest.raises(NotFound, match="could not find the requested resource"):
        kube.get("example.com/v1", "Widget", "w", "ns")
    assert [r.url.path for r in server.requests] == ["/apis/tekton.dev/v1/namespaces/ns/pipelineruns/pr",
                                                     "/apis/example.com/v1"]


def test_read_timeout_is_api_timeout(server: KmockServer, make_kube: KubeFactory) -> None:
    async def slow() -> dict[str, Any]:
        await asyncio.sleep(2.0)
        return {}

    server.reply(f"get {CM}", slow)
    kube = make_kube(server, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(ApiTimeout) as caught:
        kube.get("v1", "ConfigMap", "cm", "ns")
    assert time.monotonic() - started < 1.5  # one attempt: no hidden urllib3 retries
    assert caught.value.status == 504 and is_transient(caught.value)
    assert len(server.requests) == 1


def test_connection_refused_is_api_timeout(make_kube: KubeFactory) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago and has no listener
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    kube = make_kube(f"http://127.0.0.1:{port}")
    with pytest.raises(ApiTimeout, match="GET /api/v1/namespaces/ns/configmaps/cm"):
        kube.get("v1", "ConfigMap", "cm", "ns")
    with pytest.raises(ApiTimeout):
        kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}})


def test_timeouts_are_validated(server: KmockServer, make_kube: KubeFactory) -> None:
    with pytest.raises(ValueError):
        make_kube(server, timeout=0)
    with pytest.raises(ValueError):
        make_kube(server, field_manager="")
