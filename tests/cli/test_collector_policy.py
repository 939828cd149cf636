"""The collector policy of each kind of command (``kubernaut.cli.main``): batch commands pause the
cyclic collector around their work, loop commands (``run``, ``controller``) collect the young
generation less often (``compiler.gcpause``), and other commands keep Python's defaults."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator

import pytest

import kubernaut.cli as cli
from compiler.gcpause import LONG_RUNNING_THRESHOLDS


@pytest.fixture(autouse=True)
def _restore_collector() -> Iterator[None]:
    thresholds, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.set_threshold(*thresholds)
    gc.unfreeze()
    if enabled:
        gc.enable()


def _policy_of(command: str, monkeypatch: pytest.MonkeyPatch) -> tuple[tuple[int, int, int], bool]:
    """The thresholds and the collector's state while ``kubernaut COMMAND --help`` runs."""
    seen: list[tuple[tuple[int, int, int], bool]] = []

    def body_observer(body: object) -> None:
        seen.append((gc.get_threshold(), gc.isenabled()))

    monkeypatch.setattr(cli, "run_guarded", body_observer)
    monkeypatch.setattr(sys, "argv", ["kubernaut", command, "--help"])
    gc.set_threshold(700, 10, 10)
    cli.main()
    (policy,) = seen
    return policy


@pytest.mark.parametrize("command", ["run", "controller"])
def test_loop_commands_collect_the_young_generation_less_often(command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    thresholds, enabled = _policy_of(command, monkeypatch)
    assert thresholds == LONG_RUNNING_THRESHOLDS and thresholds[0] > 700
    assert enabled


def test_batch_commands_pause_the_collector_and_keep_the_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    thresholds, enabled = _policy_of("compile", monkeypatch)
    assert thresholds == (700, 10, 10)
    assert not enabled


def test_other_commands_keep_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _policy_of("get", monkeypatch) == ((700, 10, 10), True)
