"""Helpers shared by the operate commands: kubectl's ages, the table layout, and the namespace a
kubeconfig context names."""

from __future__ import annotations

from pathlib import Path

import pytest
from operate_helpers import kubeconfig_for

from kubernaut.cli.clusterargs import _context_namespace, format_table, human_age


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0s"), (119, "119s"), (120, "2m"), (200, "3m20s"), (599, "9m59s"), (600, "10m"), (10799, "179m"),
    (10800, "3h"), (12300, "3h25m"), (28800, "8h"), (172799, "47h"), (172800, "2d"), (190800, "2d5h"),
    (691200, "8d"), (63072000, "2y"), (65664000, "2y30d"), (None, "<unknown>"), (-1, "<invalid>"),
])
def test_human_age_is_kubectls(seconds: float | None, text: str) -> None:
    assert human_age(seconds) == text


def test_format_table_pads_all_but_the_last_column() -> None:
    assert format_table([["NAME", "PHASE", "AGE"], ["a-long-name", "Running", "5s"], ["b", "", ""]], "  ") == [
        "  NAME          PHASE     AGE", "  a-long-name   Running   5s", "  b"]


def test_context_namespace(tmp_path: Path) -> None:
    with_ns = kubeconfig_for("http://127.0.0.1:1", tmp_path / "a", namespace="team-a")
    without = kubeconfig_for("http://127.0.0.1:1", tmp_path / "b")
    assert _context_namespace(with_ns, None) == "team-a"
    assert _context_namespace(without, None) == "default"
    assert _context_namespace(tmp_path / "missing", None) == "default"
