"""Live progress of one WorkflowExecution for ``kubernaut run``.

On a terminal: a rich live table (step, phase, attempts, duration, message) redrawn as the
status changes. Anywhere else (a pipe, a CI log, a test): one plain line per transition, so the
output is greppable and stable. Either way :meth:`Progress.summary` prints the final table.
Times are the run's own clock (virtual by default), measured from the workflow's start.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from reconciler.clock import parse_rfc3339

__all__ = ["Progress", "format_duration"]

_PHASE_STYLES = {"Succeeded": "green", "Failed": "red", "Cancelled": "yellow", "Skipped": "dim",
                 "Running": "cyan", "Pending": "dim"}
_OUTPUTS_WIDTH = 100


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = max(0, round(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


def _between(start: str | None, end: str | None, now: datetime) -> float | None:
    if not start:
        return None
    finish = parse_rfc3339(end) if end else now
    return (finish - parse_rfc3339(start)).total_seconds()


def _short_json(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return text if len(text) <= _OUTPUTS_WIDTH else text[: _OUTPUTS_WIDTH - 3] + "..."


class Progress:
    """Follows a WorkflowExecution's status; call :meth:`update` with each fresh copy."""

    def __init__(self, console: Console, now: Callable[[], datetime], *, live: bool | None = None) -> None:
        self.console = console
        self.now = now
        self.live_mode = console.is_terminal if live is None else live
        self._seen: dict[str, tuple[str, int]] = {}
        self._phase: str | None = None
        self._last: Mapping[str, Any] | None = None
        self._live: Live | None = None

    # -- following -------------------------------------------------------------------------------

    def update(self, wfe: Mapping[str, Any]) -> None:
        status = wfe.get("status") or {}
        if self.live_mode:
            if status != (self._last or {}).get("status"):
                self._redraw(wfe)
        else:
            self._print_transitions(wfe)
        self._last = wfe

    def close(self) -> None:
        if self._live is not None:
            if self._last is not None:
                self._live.update(self._table(self._last))
            self._live.stop()
            self._live = None

    def _redraw(self, wfe: Mapping[str, Any]) -> None:
        table = self._table(wfe)
        if self._live is None:
            self._live = Live(table, console=self.console, refresh_per_second=8, transient=True)
            self._live.start()
        else:
            self._live.update(table)

    def _print_transitions(self, wfe: Mapping[str, Any]) -> None:
        status = wfe.get("status") or {}
        phase = status.get("phase")
        start = status.get("startTime")
        stamp = f"[{format_duration(_between(start, None, self.now())) or '0s':>6}]"
        if phase and phase != self._phase and phase == "Running":
            self._plain_print(f"{stamp} workflow {wfe['metadata']['name']} running on engine {status.get('engine')}")
        for step in status.get("steps") or []:
            # A new phase, or a retry (attempt 2, 3, ...) of a running step; the first attempt
            # of a running step is implied.
            key = (str(step.get("phase")), max(1, int(step.get("attempts") or 0)))
            if self._seen.get(step["name"], ("Pending", 1)) == key:
                continue
            self._seen[step["name"]] = key
            self._plain_print(f"{stamp} {step['name']}: {self._describe(step)}")
        self._phase = phase

    @staticmethod
    def _describe(step: Mapping[str, Any]) -> str:
        phase = str(step.get("phase"))
        attempts = int(step.get("attempts") or 0)
        parts = [phase]
        if attempts:
            parts.append(f"(attempt {attempts})")
        if step.get("message") and phase != "Succeeded":
            parts.append(f"- {step['message']}")
        return " ".join(parts)

    # -- rendering ----------------------------------------------------------------------------------

    def _table(self, wfe: Mapping[str, Any]) -> Table:
        status = wfe.get("status") or {}
        phase = str(status.get("phase") or "Pending")
        elapsed = format_duration(_between(status.get("startTime"), status.get("completionTime"), self.now()))
        title = Text.assemble(("workflow ", "bold"), (wfe["metadata"]["name"], "bold"), " ",
                              (phase, _PHASE_STYLES.get(phase, "")), f" {elapsed}".rstrip())
        table = Table(title=title, title_justify="left", expand=False)
        for column in ("step", "phase", "attempts", "duration", "message"):
            table.add_column(column, no_wrap=column != "message")
        for step in status.get("steps") or []:
            step_phase = str(step.get("phase"))
            duration = _between(step.get("startTime"), step.get("completionTime"), self.now())
            table.add_row(step["name"], Text(step_phase, _PHASE_STYLES.get(step_phase, "")),
                          str(step.get("attempts") or 0), format_duration(duration), step.get("message") or "")
        return table

    def summary(self, wfe: Mapping[str, Any]) -> None:
        """The final result: the workflow line, then one line per step (plus its outputs)."""
        self.close()
        status = wfe.get("status") or {}
        phase = status.get("phase") or "Pending"
        took = format_duration(_between(status.get("startTime"), status.get("completionTime"), self.now()))
        head = f"workflow {wfe['metadata']['name']}: {phase}"
        if took:
            head += f" in {took}"
        if status.get("engine"):
            head += f" (engine {status['engine']})"
        print_ = self._plain_print
        print_(head)
        details = status.get("failureDetails")
        if isinstance(details, Mapping):
            # Why it failed, as a machine reads it: reason, step, exit code, retryable; then the message.
            print_(_indented(f"  {failure_headline(details)}: {details.get('message') or ''}".rstrip(": ")))
        elif status.get("message"):
            print_(f"  {status['message']}")
        for line in status.get("diagnostics") or []:
            print_(f"  {line}")
        steps = status.get("steps") or []
        width = max((len(s["name"]) for s in steps), default=4)
        for step in steps:
            duration = format_duration(_between(step.get("startTime"), step.get("completionTime"), self.now()))
            attempts = int(step.get("attempts") or 0)
            attempts_text = f"{attempts} attempt{'s' * (attempts != 1)}" if attempts else ""
            line = f"  {step['name']:<{width}}  {step.get('phase')!s:<9}  {attempts_text:<10}  {duration:>6}"
            failure = step.get("failure")
            if isinstance(failure, Mapping) and step.get("phase") == "Failed":
                line += f"  {failure.get('reason')}: {step.get('message') or ''}"
            elif step.get("message") and step.get("phase") != "Succeeded":
                line += f"  {step['message']}"
            print_(_indented(line.rstrip(), " " * (width + 4)))
            if step.get("outputs"):
                print_(f"  {'':<{width}}  outputs: {_short_json(step['outputs'])}")

    def _plain_print(self, text: str) -> None:
        self.console.print(text, highlight=False, markup=False, soft_wrap=True)


def failure_headline(details: Mapping[str, Any]) -> str:
    """``ActionFailed in step fix (exit code 3, not retryable)`` from ``status.failureDetails``."""
    text = str(details.get("reason") or "Failed")
    if details.get("step"):
        text += f" in step {details['step']}"
    facts = []
    if details.get("exitCode") is not None:
        facts.append(f"exit code {details['exitCode']}")
    facts.append("retryable" if details.get("retryable") else "not retryable")
    return f"{text} ({', '.join(facts)})"


def _indented(text: str, indent: str = "    ") -> str:
    """A multi-line message (an action's last stderr lines) with its later lines indented."""
    first, *rest = text.split("\n")
    return "\n".join([first, *(indent + line for line in rest)])
