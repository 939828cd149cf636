from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from reconciler.clock import Clock, RealClock, VirtualClock, parse_rfc3339, rfc3339


def test_virtual_clock_starts_at_2026_and_sleep_moves_time_without_waiting() -> None:
    clock = VirtualClock()
    assert clock.now() == datetime(2026, 1, 1, tzinfo=UTC)
    started = time.monotonic()
    clock.sleep(3600)
    assert time.monotonic() - started < 1.0
    assert clock.now() == datetime(2026, 1, 1, 1, tzinfo=UTC)
    assert clock.monotonic() == 3600.0


def test_virtual_clock_advance_and_guards() -> None:
    clock = VirtualClock(datetime(2030, 5, 1, 12, tzinfo=UTC))
    clock.advance(1.5)
    assert clock.now() == datetime(2030, 5, 1, 12, 0, 1, 500000, tzinfo=UTC)
    clock.sleep(-5)  # a deadline already in the past: no-op, not an error
    assert clock.monotonic() == 1.5
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        VirtualClock(datetime(2030, 1, 1))


def test_real_clock_is_utc_aware_and_both_satisfy_the_protocol() -> None:
    now = RealClock().now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert isinstance(RealClock(), Clock) and isinstance(VirtualClock(), Clock)


def test_rfc3339_whole_seconds_z_and_round_trip() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert rfc3339(datetime(2026, 1, 1, 2, 0, 0, 999999, tzinfo=plus_two)) == "2026-01-01T00:00:00Z"
    assert parse_rfc3339("2026-01-01T00:00:00Z") == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_rfc3339("2026-01-01T02:00:00.5+02:00") == datetime(2026, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)
    with pytest.raises(ValueError):
        rfc3339(datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        parse_rfc3339("2026-01-01T00:00:00")
