from __future__ import annotations

import pytest

from reconciler.cluster.errors import (
    ApiError,
    ApiTimeout,
    BadRequest,
    Conflict,
    Gone,
    Invalid,
    NotFound,
    ServerError,
    TooManyRequests,
    error_for_status,
    is_transient,
)


@pytest.mark.parametrize(("exc", "transient"), [
    (TooManyRequests("slow down", retry_after=2), True),
    (ServerError("boom"), True),
    (ServerError("down", 503), True),
    (ApiTimeout("late"), True),
    (Conflict("stale"), True),
    (Gone("compacted"), True),
    (TimeoutError(), True),
    (ConnectionResetError(), True),
    (Conflict("taken", reason="AlreadyExists"), False),
    (NotFound("gone"), False),
    (Invalid("bad"), False),
    (BadRequest("bad"), False),
    (ValueError("bug"), False),
])
def test_is_transient(exc: BaseException, transient: bool) -> None:
    assert is_transient(exc) is transient


def test_statuses_and_reasons() -> None:
    assert (NotFound("x").status, NotFound("x").reason) == (404, "NotFound")
    assert (Gone("x").status, Gone("x").reason) == (410, "Expired")
    assert Conflict("x", "AlreadyExists").already_exists and not Conflict("x").already_exists
    assert TooManyRequests("x", retry_after=3).retry_after == 3
    assert (ServerError("x", 503).status, ServerError("x", 503).reason) == (503, "ServiceUnavailable")
    with pytest.raises(ValueError):
        Conflict("x", reason="Nope")
    with pytest.raises(ValueError):
        ServerError("x", 404)


@pytest.mark.parametrize(("status", "cls"), [
    (400, BadRequest), (404, NotFound), (409, Conflict), (410, Gone), (422, Invalid),
    (429, TooManyRequests), (500, ServerError), (503, ServerError), (504, ApiTimeout), (418, ApiError),
])
def test_error_for_status(status: int, cls: type[ApiError]) -> None:
    error = error_for_status(status, "msg")
    assert type(error) is cls and error.status == status and error.message == "msg"
    assert error_for_status(409, "m", "AlreadyExists").reason == "AlreadyExists"


def test_to_status_is_a_meta_v1_status() -> None:
    assert Gone("too old").to_status() == {
        "apiVersion": "v1", "kind": "Status", "metadata": {}, "status": "Failure",
        "message": "too old", "reason": "Expired", "code": 410,
    }
