"""docs/errors.md documents exactly the codes the code base defines and uses."""

from __future__ import annotations

import re
from pathlib import Path

from compiler.codes import CODES

ROOT = Path(__file__).resolve().parents[2]


def documented_codes() -> list[str]:
    text = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    return re.findall(r"^### (KN\d{3})$", text, flags=re.MULTILINE)


def used_codes() -> set[str]:
    found: set[str] = set()
    for package in ("compiler", "targets", "reconciler", "kubernaut"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "codes.py":
                continue
            found.update(re.findall(r"[\"'](KN\d{3})[\"']", path.read_text(encoding="utf-8")))
    return found


def test_every_code_is_documented_once() -> None:
    documented = documented_codes()
    assert len(documented) == len(set(documented))
    assert set(documented) == set(CODES)


def test_every_used_code_is_registered() -> None:
    assert used_codes() - set(CODES) == set()


def test_codes_are_listed_in_order() -> None:
    assert documented_codes() == sorted(CODES)
