"""The verdict on one signature candidate (a legacy layer or a bundle)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    ok: bool
    reason: str
    authority: str | None = None
