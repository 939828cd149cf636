"""The controller's contract source takes upstream catalog entries too (``--contracts``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from interface_harness import UPSTREAM
from typer.testing import CliRunner

import kubernaut.cli.commands.controller as controller_command
from kubernaut.cli import app


def test_the_controller_compiles_with_the_given_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(controller_command, "_cluster", lambda *_: object())
    monkeypatch.setattr(controller_command, "serve", lambda _cluster, config, _stop: seen.update(config=config))
    result = CliRunner().invoke(app, ["controller", "--contracts", str(UPSTREAM / "scale-replicas"),
                                      "--metrics-port", "-1", "--no-leader-elect"])
    assert result.exit_code == 0, result.output
    contract = seen["config"].catalog.get("ScaleReplicas")
    assert contract is not None and contract.spec.interface == "env"


def test_an_unsupported_entry_stops_the_controller_at_start(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["controller", "--contracts", str(UPSTREAM / "disk-pressure-emptydir")])
    assert result.exit_code == 2
    assert "error[KN081]" in result.stderr and "Ansible playbook" in result.stderr
