"""HTTP plumbing for ``KubeCluster``: requests through the official client, answers as plain JSON.

Requests go through ``kubernetes.client.ApiClient`` (``param_serialize`` + ``call_api``) rather
than the generated per-kind API classes: that keeps objects as plain dicts, works for any kind
the registry or discovery can name, and still reuses the client's configuration (host, TLS, proxy)
and its authentication hooks (bearer tokens refreshed by exec plugins and in-cluster loaders).

Every failure becomes an exception of ``reconciler.cluster.errors``, so callers branch on the
same facts as with ``MemoryCluster``: non-2xx answers by their HTTP status and ``Status`` body,
client-side timeouts and connection failures as ``ApiTimeout`` (the request may or may not have
been carried out).
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC
from typing import Any
from urllib.parse import quote

import urllib3
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from .base import JsonObject
from .errors import ApiError, ApiTimeout, Conflict, ServerError, TooManyRequests, error_for_status
from .rate_limit import TokenBucket

__all__ = [
    "APPLY_PATCH",
    "JSON",
    "MERGE_PATCH",
    "RequestHook",
    "Transport",
    "error_from_response",
    "parse_retry_after",
    "segment",
]

JSON = "application/json"
APPLY_PATCH = "application/apply-patch+yaml"
MERGE_PATCH = "application/merge-patch+json"

#: Called after every request with (verb, kind, HTTP status or "timeout"); fits ``Metrics.api_request``.
RequestHook = Callable[[str, str, "int | str"], None]
Query = Sequence[tuple[str, str]]
#: ``(connect, read)`` seconds; a read timeout of None waits forever (used for watches only).
Timeout = tuple[float, float | None]

# Only the client's bearer-token scheme exists; naming it lets the client refresh expiring tokens.
_AUTH_SETTINGS = ["BearerToken"]
# Retry-After hints are bounded: a broken proxy must not park a controller for a day.
_MAX_RETRY_AFTER = 600.0


def segment(value: str) -> str:
    """One URL path segment (names and namespaces are DNS-safe already; this is belt and braces)."""
    return quote(value, safe="")


class Transport:
    """Sends requests for ``KubeCluster``; thread-safe (urllib3's pool is). Every request, a
    watch's included (as in client-go), first takes a token from ``limiter`` when there is one."""

    def __init__(self, api_client: ApiClient, timeout: Timeout, on_request: RequestHook | None = None,
                 limiter: TokenBucket | None = None) -> None:
        self.api_client = api_client
        self.timeout = timeout
        self._on_request = on_request
        self.limiter = limiter

    def json(
        self,
        method: str,
        path: str,
        *,
        verb: str,
        kind: str,
        query: Query = (),
        body: JsonObject | None = None,
        content_type: str | None = None,
    ) -> JsonObject:
        """Send a request and decode its JSON answer; ApiError for anything but 2xx."""
        response = self.open(method, path, verb=verb, kind=kind, query=query, body=body, content_type=content_type)
        try:
            data = _read(response, f"{method} {path}")
        finally:
            response.release_conn()
        if not 200 <= response.status <= 299:
            raise error_from_response(response.status, response.headers, data, response.reason)
        return _decode_object(data, f"{method} {path}")

    def open(
        self,
        method: str,
        path: str,
        *,
        verb: str,
        kind: str,
        query: Query = (),
        body: JsonObject | None = None,
        content_type: str | None = None,
        timeout: Timeout | None = None,
        accept: str = JSON,
    ) -> urllib3.BaseHTTPResponse:
        """Send a request; the answer's body is not read yet (the caller streams or reads it)."""
        if self.limiter is not None:
            self.limiter.wait()
        headers = {"Accept": accept}
        if content_type is not None:
            headers["Content-Type"] = content_type
        try:
            # param_serialize adds the host, the query string and the credentials (refreshing an
            # expiring token through the configuration's hook).
            _, url, sent_headers, sent_body, _ = self.api_client.param_serialize(
                method=method, resource_path=path, query_params=list(query) or None,
                header_params=headers, body=body, auth_settings=_AUTH_SETTINGS,
            )
            rest = self.api_client.call_api(method, url, header_params=sent_headers, body=sent_body,
                                            _request_timeout=timeout or self.timeout)
        except (urllib3.exceptions.HTTPError, OSError, ApiException) as exc:
            # ApiException here is the client's wrapper of TLS failures (status 0): the request
            # never got an HTTP answer, which is what ApiTimeout stands for.
            self._report(verb, kind, "timeout")
            raise ApiTimeout(f"{method} {path}: {_describe(exc)}") from exc
        response: urllib3.BaseHTTPResponse = rest.response
        self._report(verb, kind, response.status)
        return response

    def _report(self, verb: str, kind: str, code: int | str) -> None:
        if self._on_request is not None:
            self._on_request(verb, kind, code)


def _read(response: urllib3.BaseHTTPResponse, what: str) -> bytes:
    try:
        return response.data
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise ApiTimeout(f"{what}: reading the answer failed: {_describe(exc)}") from exc


def _decode_object(data: bytes, what: str) -> JsonObject:
    try:
        value = json.loads(data) if data else {}
    except ValueError as exc:
        raise ServerError(f"{what}: the answer is not JSON: {data[:200]!r}") from exc
    if not isinstance(value, dict):
        raise ServerError(f"{what}: the answer is not a JSON object: {data[:200]!r}")
    return value


def _describe(exc: BaseException) -> str:
    # MaxRetryError hides the useful part (connection refused, timed out) in ``reason``.
    reason = getattr(exc, "reason", None)
    if isinstance(reason, BaseException):
        return f"{type(reason).__name__}: {reason}"
    return f"{type(exc).__name__}: {exc}"


def error_from_response(status: int, headers: Mapping[str, str], data: bytes, http_reason: str | None) -> ApiError:
    """The ``ApiError`` for a non-2xx answer, using its ``meta/v1 Status`` body when there is one.

    Proxies and load balancers in front of the API server answer with HTML or plain text; those
    still map by status code, with the start of the text as the message.
    """
    reason: str | None = None
    message = ""
    details: Mapping[str, Any] = {}
    try:
        decoded = json.loads(data) if data else None
    except ValueError:
        decoded = None
    if isinstance(decoded, dict) and decoded.get("kind") == "Status":
        reason = decoded["reason"] if isinstance(decoded.get("reason"), str) else None
        message = str(decoded.get("message") or "")
        if isinstance(decoded.get("details"), dict):
            details = decoded["details"]
    if not message:
        text = data[:500].decode("utf-8", errors="replace").strip()
        message = text or http_reason or f"HTTP {status}"
    if status == 429:
        hint = parse_retry_after(headers.get("Retry-After"))
        if hint is None and isinstance(details.get("retryAfterSeconds"), int | float):
            hint = float(details["retryAfterSeconds"])
        return TooManyRequests(message, retry_after=hint if hint is not None else 1.0)
    if status == 409:
        return Conflict(message, "AlreadyExists" if reason == "AlreadyExists" else "Conflict")
    if 500 <= status <= 599 and status != 504:
        return ServerError(message, status)
    return error_for_status(status, message, reason)


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - now()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER)

