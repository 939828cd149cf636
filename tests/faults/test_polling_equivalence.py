"""Issue 13: the single-threaded driver polls only the watches with something pending (a queued
event, an ended watch, a round to end, a due retry or resync) instead of every watch before every
reconcile. Under the fault campaign (API errors, lost responses, watch rounds ending in 410,
controller restarts) that must change nothing a user or the fault injector can observe: the same
faults drawn, the same re-lists, reconciles and virtual time, the same outcomes, with a fraction
of the polls."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from campaign import Campaign, CampaignConfig, Report

from reconciler.cache.list_watch import ListWatcher
from reconciler.runtime import Manager


@pytest.fixture(autouse=True)
def quiet() -> Iterator[None]:
    logging.disable(logging.WARNING)  # the injected faults each log a warning
    yield
    logging.disable(logging.NOTSET)


def poll_every_feed(self: Manager) -> int:
    """The driver before issue 13's change: every feed, every step."""
    feeds = self._feeds
    if feeds is None:
        feeds = self._feeds = list({id(f): f for c in self.controllers for f in c.feeds()}.values())
    return sum(feed.poll() for feed in feeds)


def campaign(engine: str, monkeypatch: pytest.MonkeyPatch, *, every_feed: bool) -> tuple[Report, int]:
    """Run a small campaign; the report and how many times a list-watcher was polled."""
    polls = 0
    poll = ListWatcher.poll

    def counted(self: ListWatcher, timeout: float = 0.0) -> int:
        nonlocal polls
        polls += 1
        return poll(self, timeout)

    with monkeypatch.context() as patch:
        patch.setattr(ListWatcher, "poll", counted)
        if every_feed:
            patch.setattr(Manager, "poll_watches", poll_every_feed)
        report = Campaign(CampaignConfig(workflows=5, engine=engine, seed=3, max_virtual_seconds=1800.0)).run()
    return report, polls


def observable(report: Report) -> tuple[object, ...]:
    return (report.phases, report.wrong, report.duplicates, report.leaks, report.converged, report.deleted,
            report.virtual_seconds, report.deletion_virtual_seconds, report.faults,
            report.relists_after_expiry, report.restarts, report.reconciles)


@pytest.mark.parametrize("engine", ["jobs", "tekton"])
def test_polling_only_pending_watches_changes_nothing_observable(engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    pending_only, few = campaign(engine, monkeypatch, every_feed=False)
    every_feed, many = campaign(engine, monkeypatch, every_feed=True)
    assert pending_only.clean, "\n".join(pending_only.lines())
    assert pending_only.faults["watch expired"] > 0 and pending_only.relists_after_expiry > 0
    assert observable(pending_only) == observable(every_feed)
    assert few * 2 < many
